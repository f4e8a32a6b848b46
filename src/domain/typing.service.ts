import type { DataSource } from 'typeorm';
import type { CancelTimer, Clock } from './clock.js';
import { requireMembership } from './room-access.js';
import type { RoomEvents } from './room-events.js';
import { ThrottledSignal } from './throttled-signal.js';
import type { Viewer } from './viewer.js';

/** A typing indicator lapses this long after its last refresh. */
export const TYPING_EXPIRES_MS = 6000;
/** A user produces at most one typing event per room per this interval. */
export const TYPING_THROTTLE_MS = 2000;

/**
 * Typing indicators: ephemeral TypingChanged events to the room's other members, never stored. `isTyping: true`
 * must be refreshed; it expires by itself TYPING_EXPIRES_MS after the last refresh.
 */
export class TypingService {
  private readonly signal: ThrottledSignal<boolean>;
  private readonly expiries = new Map<string, CancelTimer>();

  constructor(
    private readonly db: DataSource,
    events: RoomEvents,
    private readonly clock: Clock,
  ) {
    this.signal = new ThrottledSignal<boolean>(clock, TYPING_THROTTLE_MS, (key, isTyping) => {
      const [roomId, userId] = splitKey(key);
      events.publish(roomId, { kind: 'TYPING_CHANGED', roomId, userId, isTyping, at: new Date(clock.now()) });
    });
  }

  /**
   * Starts, refreshes or stops the viewer's typing indicator in a room.
   * @throws NotFoundError for a room the viewer cannot see; ForbiddenError for a non-member.
   */
  async set(viewer: Viewer, roomId: string, isTyping: boolean): Promise<boolean> {
    await requireMembership(this.db.manager, viewer, roomId);
    const key = `${roomId}:${viewer.id}`;
    this.expiries.get(key)?.();
    this.expiries.delete(key);
    if (isTyping) {
      this.expiries.set(
        key,
        this.clock.schedule(TYPING_EXPIRES_MS, () => {
          this.expiries.delete(key);
          this.signal.set(key, false);
        }),
      );
    }
    this.signal.set(key, isTyping);
    return true;
  }

  /** Cancels every timer (at shutdown). */
  dispose(): void {
    for (const cancel of this.expiries.values()) cancel();
    this.expiries.clear();
    this.signal.clear();
  }
}

function splitKey(key: string): [string, string] {
  const [roomId, userId] = key.split(':') as [string, string];
  return [roomId, userId];
}
