/** Stops a listener; calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * Moves events keyed by room, so only a room's subscribers do work for its events. Implementations deliver each
 * published event to every listener subscribed to its room at publish time, in publish order per room.
 * The in-process bus is the one used today; a Redis-backed one can implement the same interface.
 */
export interface RoomEventBus<TEvent> {
  /** Sends `event` to the room's current listeners. Call it only after the change has committed. */
  publish(roomId: string, event: TEvent): void;
  /** Registers `listener` for the room's events until the returned function is called. */
  subscribe(roomId: string, listener: (event: TEvent) => void): Unsubscribe;
  /** Number of listeners of a room (0 for an unknown room). */
  listenerCount(roomId: string): number;
}

/** A RoomEventBus within one process: a set of listeners per room, delivered synchronously. */
export class InProcessRoomEventBus<TEvent> implements RoomEventBus<TEvent> {
  private readonly rooms = new Map<string, Set<(event: TEvent) => void>>();

  publish(roomId: string, event: TEvent): void {
    const listeners = this.rooms.get(roomId);
    if (!listeners) return;
    for (const listener of listeners) listener(event);
  }

  subscribe(roomId: string, listener: (event: TEvent) => void): Unsubscribe {
    let listeners = this.rooms.get(roomId);
    if (!listeners) {
      listeners = new Set();
      this.rooms.set(roomId, listeners);
    }
    // Wrap so the same function can subscribe twice and each unsubscribe removes only its own registration.
    const registration = (event: TEvent) => listener(event);
    listeners.add(registration);
    return () => {
      const current = this.rooms.get(roomId);
      if (!current?.delete(registration)) return;
      if (current.size === 0) this.rooms.delete(roomId);
    };
  }

  listenerCount(roomId: string): number {
    return this.rooms.get(roomId)?.size ?? 0;
  }
}
