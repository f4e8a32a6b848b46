/** How long reconnects and retries wait. */
export interface BackoffOptions {
  /** The first wait's upper bound in ms. Default 300. */
  initialDelayMs?: number;
  /** No wait is longer than this, in ms. Default 15,000. */
  maxDelayMs?: number;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * The wait before retry number `attempt` (0 for the first): exponential with "equal jitter", half fixed and half
 * random, so a crowd of clients reconnecting after a restart spreads out instead of arriving together.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { initialDelayMs = 300, maxDelayMs = 15_000, random = Math.random } = options;
  const ceiling = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
