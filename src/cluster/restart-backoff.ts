/** Delays between restarts of a worker that keeps exiting. */
export interface RestartBackoffOptions {
  /** The first delay. Default 100 ms. */
  initialMs?: number;
  /** Each further delay doubles up to this. Default 10 s. */
  maxMs?: number;
  /** A worker that stayed up this long counts as healthy: its next restart starts from `initialMs` again. Default 30 s. */
  resetAfterMs?: number;
}

/** Exponential backoff for restarting one worker slot: 100 ms doubling to 10 s, reset after 30 s up. */
export class RestartBackoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly resetAfterMs: number;
  private nextMs: number;

  constructor(options: RestartBackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 100;
    this.maxMs = options.maxMs ?? 10_000;
    this.resetAfterMs = options.resetAfterMs ?? 30_000;
    this.nextMs = this.initialMs;
  }

  /** The wait before restarting a worker that exited after `upForMs` milliseconds. */
  delayAfter(upForMs: number): number {
    if (upForMs >= this.resetAfterMs) this.nextMs = this.initialMs;
    const delay = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.maxMs);
    return delay;
  }
}
