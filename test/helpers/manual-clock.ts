import type { CancelTimer, Clock } from '../../src/domain/clock.js';

/**
 * A Clock that moves only when the test says so; due callbacks run inside `advance`, in time order. It starts at
 * the real time it was created (or at `start`): token expiry times are real ones (jose checks `exp` against the
 * system clock), so a fresh token's expiry lies in this clock's future by about the token's lifetime.
 */
export class ManualClock implements Clock {
  private time: number;
  private timers: { at: number; order: number; callback: () => void }[] = [];
  private scheduled = 0;

  constructor(start = Date.now()) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule(ms: number, callback: () => void): CancelTimer {
    const timer = { at: this.time + ms, order: this.scheduled++, callback };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, running every callback that falls due on the way. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.callback();
    }
    this.time = target;
  }
}
