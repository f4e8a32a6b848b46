import type { CancelTimer, Clock } from './clock.js';

interface SignalState<T> {
  /** The latest value set. */
  value: T;
  /** The last value sent, if any. */
  sent?: { value: T; at: number };
  /** A pending send at the end of the current throttle window. */
  flush?: CancelTimer;
}

/**
 * Per-key values (a user's typing state in a room, their read position) sent at most once per `intervalMs`: a
 * change inside the window is sent when the window ends, and only its latest value, and only when it differs from
 * what was last sent.
 */
export class ThrottledSignal<T> {
  private readonly states = new Map<string, SignalState<T>>();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly send: (key: string, value: T) => void,
  ) {}

  /** Sets the key's value and sends it now or at the end of the throttle window. */
  set(key: string, value: T): void {
    const state = this.states.get(key);
    if (state) state.value = value;
    else this.states.set(key, { value });
    this.sync(key);
  }

  /** The latest value set for `key`, if any. */
  get(key: string): T | undefined {
    return this.states.get(key)?.value;
  }

  /** The value last sent for `key`, if any. */
  lastSent(key: string): T | undefined {
    return this.states.get(key)?.sent?.value;
  }

  /** Forgets a key and its pending send: nothing more is sent for it unless it is set again. */
  forget(key: string): void {
    this.states.get(key)?.flush?.();
    this.states.delete(key);
  }

  /** Forgets every key and pending send. */
  clear(): void {
    for (const state of this.states.values()) state.flush?.();
    this.states.clear();
  }

  private sync(key: string): void {
    const state = this.states.get(key);
    if (!state || state.flush) return; // a pending flush will send the latest value
    if (state.sent && Object.is(state.sent.value, state.value)) return;
    const now = this.clock.now();
    const wait = state.sent ? state.sent.at + this.intervalMs - now : 0;
    if (wait > 0) {
      state.flush = this.clock.schedule(wait, () => {
        state.flush = undefined;
        this.sync(key);
      });
      return;
    }
    state.sent = { value: state.value, at: now };
    this.send(key, state.value);
  }
}
