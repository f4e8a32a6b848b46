/** Cancels a scheduled callback; calling it after the callback ran is harmless. */
export type CancelTimer = () => void;

/**
 * Time as the domain and the transports see it; injected so that typing expiry, throttling and token expiry on
 * open sockets can be tested without sleeping.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `callback` once, `ms` from now (any delay, also one longer than a Node timer takes). */
  schedule(ms: number, callback: () => void): CancelTimer;
}

/** Longest delay a Node timer takes (about 24.8 days); a longer one would fire at once, so it is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock. Its timers do not keep the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, callback) {
    const due = Date.now() + ms;
    let timer: NodeJS.Timeout;
    const arm = (wait: number) => {
      timer = setTimeout(() => (wait > MAX_TIMER_MS ? arm(due - Date.now()) : callback()), Math.max(0, Math.min(wait, MAX_TIMER_MS)));
      timer.unref();
    };
    arm(ms);
    return () => clearTimeout(timer);
  },
};
