import DataLoader from 'dataloader';

/**
 * A DataLoader that never caches and starts the next batch only when the one in flight has returned: when idle a
 * call waits for the end of the current turn of the event loop; under load, batches grow instead of queueing up
 * as separate round trips. With `collectMs`, a batch that follows another within that time also waits that long
 * for company: for work where a few milliseconds do not matter and each round trip costs more than they do.
 */
export function inFlightBatchLoader<K, V>(
  batch: (keys: readonly K[]) => Promise<readonly (V | Error)[]>,
  options: { maxBatchSize: number; collectMs?: number },
): DataLoader<K, V> {
  const collectMs = options.collectMs ?? 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  let lastDispatch = -Infinity;
  const dispatch = (run: () => void) => {
    const busy = performance.now() - lastDispatch < collectMs;
    if (busy) setTimeout(run, collectMs);
    else setImmediate(run);
  };
  return new DataLoader<K, V>(
    (keys) => {
      lastDispatch = performance.now();
      const running = batch(keys);
      inFlight = running.catch(() => undefined);
      return running;
    },
    { cache: false, maxBatchSize: options.maxBatchSize, batchScheduleFn: (run) => void inFlight.then(() => dispatch(run)) },
  );
}
