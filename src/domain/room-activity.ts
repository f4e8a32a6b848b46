import type { Unsubscribe } from '../realtime/stream-event-bus.js';
import { roomStream, userStream } from '../realtime/stream-keys.js';
import type { Clock } from './clock.js';
import type { Logger } from '../logger.js';
import type { RoomEvent } from './room-events.js';
import { ThrottledSignal } from './throttled-signal.js';
import type { UserEvent, UserEvents } from './user-events.js';

/** Where room activity is heard: the streams of rooms and users (the event bus). */
export interface ActivitySource {
  subscribe(stream: string, listener: (event: RoomEvent | UserEvent) => void): Unsubscribe;
}

interface Watch {
  /** Inbox subscriptions of the user in this process. */
  subscriptions: number;
  /** A listener per room the user is a member of. */
  readonly rooms: Map<string, Unsubscribe>;
  /** Membership changes heard while the room list was being read; applied in order once it is in. */
  pendingChanges: { roomId: string; member: boolean }[] | undefined;
  readonly stopUserListener: Unsubscribe;
  readonly signal: ThrottledSignal<number>;
  changes: number;
}

/**
 * Ephemeral RoomActivity for users with an open inbox: while a user has one, this listens to the streams of every
 * room they are a member of (following joins and departures from their own log) and publishes, to the user's
 * stream, at most one RoomActivity per room per `throttleMs` (the first at once, the latest state at the end of the
 * window). Nothing is written: a room event costs one row however many members it has, and a user without an open
 * inbox costs nothing.
 */
export class RoomActivity {
  private readonly watches = new Map<string, Watch>();

  constructor(
    private readonly source: ActivitySource,
    private readonly userEvents: UserEvents,
    private readonly clock: Clock,
    private readonly throttleMs: number,
    private readonly log: Logger,
  ) {}

  /**
   * Starts (or shares) the user's activity; the returned function stops this share of it (idempotent). `rooms` is
   * every room the user is a member of, read after this call (joins and departures committed meanwhile are heard
   * and applied after it); only the first watch of a user waits for it.
   */
  watch(userId: string, rooms: Promise<readonly string[]>): Unsubscribe {
    let watch = this.watches.get(userId);
    if (watch) watch.subscriptions++;
    else watch = this.start(userId, rooms);
    let stopped = false;
    const current = watch;
    return () => {
      if (stopped) return;
      stopped = true;
      if (--current.subscriptions > 0) return;
      current.stopUserListener();
      for (const stop of current.rooms.values()) stop();
      current.rooms.clear();
      current.signal.clear();
      if (this.watches.get(userId) === current) this.watches.delete(userId);
    };
  }

  /** Number of users whose activity is watched (for tests and stats). */
  watchedUsers(): number {
    return this.watches.size;
  }

  private start(userId: string, rooms: Promise<readonly string[]>): Watch {
    const watch: Watch = {
      subscriptions: 1,
      rooms: new Map(),
      pendingChanges: [],
      // Listen to the user's own log first, then read their rooms: a join or departure committed meanwhile is
      // then heard and applied after the list.
      stopUserListener: this.source.subscribe(userStream(userId), (heard) => {
        const event = heard as UserEvent; // a user's stream carries user events only
        if (event.kind !== 'JOINED_ROOM' && event.kind !== 'REMOVED_FROM_ROOM') return;
        const change = { roomId: event.roomId, member: event.kind === 'JOINED_ROOM' };
        if (watch.pendingChanges) watch.pendingChanges.push(change);
        else this.applyChange(userId, watch, change);
      }),
      signal: new ThrottledSignal<number>(this.clock, this.throttleMs, (roomId) => {
        this.userEvents.publish(userId, { kind: 'ROOM_ACTIVITY', userId, roomId, at: new Date(this.clock.now()) });
      }),
      changes: 0,
    };
    this.watches.set(userId, watch);
    rooms
      .then((roomIds) => {
        if (watch.subscriptions === 0) return;
        for (const roomId of roomIds) this.applyChange(userId, watch, { roomId, member: true });
      })
      .catch((error: unknown) => {
        if (watch.subscriptions > 0) this.log.warn({ err: error, userId }, 'inbox: could not read the rooms to watch; RoomActivity follows joins only');
      })
      .finally(() => {
        const pending = watch.pendingChanges ?? [];
        watch.pendingChanges = undefined;
        if (watch.subscriptions === 0) return;
        for (const change of pending) this.applyChange(userId, watch, change);
      });
    return watch;
  }

  private applyChange(userId: string, watch: Watch, change: { roomId: string; member: boolean }): void {
    const listening = watch.rooms.get(change.roomId);
    if (change.member && !listening) {
      watch.rooms.set(
        change.roomId,
        // A room's stream carries room events only.
        this.source.subscribe(roomStream(change.roomId), (event) => {
          if (isActivity(event as RoomEvent, userId)) watch.signal.set(change.roomId, ++watch.changes);
        }),
      );
    } else if (!change.member && listening) {
      listening();
      watch.rooms.delete(change.roomId);
    }
  }
}

/** Whether a room event changes what a member's room list shows: its messages, counts or name. */
function isActivity(event: RoomEvent, userId: string): boolean {
  switch (event.kind) {
    case 'MESSAGE_ADDED':
    case 'MESSAGE_EDITED':
    case 'MESSAGE_DELETED':
    case 'ROOM_RENAMED':
      return true;
    case 'READ_RECEIPT':
      return event.userId === userId; // the user's own unread count changed (on another device)
    default:
      return false;
  }
}
