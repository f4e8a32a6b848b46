import v8 from 'node:v8';
import vm from 'node:vm';

/** A full, synchronous garbage collection: `gc` when node runs with --expose-gc, otherwise exposed at run time. */
function fullCollection(): () => void {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/**
 * Bytes of heap in use after full collections: the least of `samples` readings, each taken after the event loop
 * has turned (so callbacks and finalizers that were due have run) and two collections. One reading after one
 * collection varies by megabytes with what V8 happened to keep (compiled code, freshly promoted buffers); the
 * least of several is what the program really holds, up to a few hundred kilobytes.
 */
export async function settledHeapUsed(samples = 5): Promise<number> {
  const gc = fullCollection();
  let least = Infinity;
  for (let i = 0; i < samples; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    gc();
    least = Math.min(least, process.memoryUsage().heapUsed);
  }
  return least;
}
