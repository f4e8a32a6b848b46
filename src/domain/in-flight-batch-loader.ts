import DataLoader from 'dataloader';

/**
 * A DataLoader that never caches and starts the next batch only when the one in flight has returned: when idle a
 * call waits for the end of the current turn of the event loop; under load, batches grow instead of queueing up
 * as separate round trips.
 */
export function inFlightBatchLoader<K, V>(
  batch: (keys: readonly K[]) => Promise<readonly (V | Error)[]>,
  maxBatchSize: number,
): DataLoader<K, V> {
  let inFlight: Promise<unknown> = Promise.resolve();
  return new DataLoader<K, V>(
    (keys) => {
      const running = batch(keys);
      inFlight = running.catch(() => undefined);
      return running;
    },
    { cache: false, maxBatchSize, batchScheduleFn: (run) => void inFlight.then(() => setImmediate(run)) },
  );
}
