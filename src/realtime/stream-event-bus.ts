import { decodeStreamEvent, encodeStreamEvent } from './stream-event-codec.js';

/** Stops a listener; calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * Moves events keyed by stream (see stream-keys: `room:<id>`, `user:<id>`), so only a stream's subscribers do work
 * for its events. Implementations deliver each published event to every listener subscribed to its stream at
 * publish time, in publish order per stream. What is published is plain data (ids, seqs, values; never a live
 * object), so another implementation can carry it between processes.
 * The in-process bus is the one used today.
 */
export interface StreamEventBus<TEvent> {
  /** Sends `event` to the stream's current listeners. Call it only after the change has committed. */
  publish(stream: string, event: TEvent): void;
  /** Registers `listener` for the stream's events until the returned function is called. */
  subscribe(stream: string, listener: (event: TEvent) => void): Unsubscribe;
  /** Number of listeners of a stream (0 for an unknown stream). */
  listenerCount(stream: string): number;
}

/** A StreamEventBus within one process: a set of listeners per stream, delivered synchronously. */
export class InProcessStreamEventBus<TEvent> implements StreamEventBus<TEvent> {
  private readonly streams = new Map<string, Set<(event: TEvent) => void>>();

  publish(stream: string, event: TEvent): void {
    const listeners = this.streams.get(stream);
    if (!listeners) return;
    for (const listener of listeners) listener(event);
  }

  subscribe(stream: string, listener: (event: TEvent) => void): Unsubscribe {
    let listeners = this.streams.get(stream);
    if (!listeners) {
      listeners = new Set();
      this.streams.set(stream, listeners);
    }
    // Wrap so the same function can subscribe twice and each unsubscribe removes only its own registration.
    const registration = (event: TEvent) => listener(event);
    listeners.add(registration);
    return () => {
      const current = this.streams.get(stream);
      if (!current?.delete(registration)) return;
      if (current.size === 0) this.streams.delete(stream);
    };
  }

  listenerCount(stream: string): number {
    return this.streams.get(stream)?.size ?? 0;
  }
}

/**
 * An in-process bus that hands every listener a copy decoded from the event's text form, as a bus between
 * processes would: what the domain publishes must survive that (plain data, no shared object). Used by tests.
 */
export class SerializingStreamEventBus<TEvent> extends InProcessStreamEventBus<TEvent> {
  override publish(stream: string, event: TEvent): void {
    super.publish(stream, decodeStreamEvent<TEvent>(encodeStreamEvent(stream, event)).event);
  }
}
