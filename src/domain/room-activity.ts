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

/** The rooms a user is a member of as of a seq of their own log (read in one statement). */
export interface MembershipSnapshot {
  roomIds: readonly string[];
  /** The user's latest event seq when the list was read: membership changes up to it are in the list. */
  asOfSeq: number;
}

interface Watch {
  readonly userId: string;
  /** Inbox subscriptions of the user in this process. */
  subscriptions: number;
  /** A listener per room the user is a member of. */
  readonly rooms: Map<string, Unsubscribe>;
  /**
   * Per room, the seq of the user's own log that the membership known here reflects: a join or departure, or a
   * snapshot. A fact older than what is known is ignored, so joins, departures and snapshots may arrive in any
   * order (publishers finish out of commit order) and still end at the latest state.
   */
  readonly knownAsOf: Map<string, number>;
  /** Settles once a snapshot has been applied (or the first one failed): the watch then covers every room. */
  readonly ready: Promise<void>;
  readonly markReady: () => void;
  snapshotApplied: boolean;
  readonly stopUserListener: Unsubscribe;
  readonly signal: ThrottledSignal<number>;
  changes: number;
}

/**
 * Ephemeral RoomActivity for users with an open inbox: while a user has one, this listens to the streams of every
 * room they are a member of (following joins and departures from their own log) and publishes, to the user's
 * stream, at most one RoomActivity per room per `throttleMs` (the first at once, the latest state at the end of the
 * window), only while they are a member. Nothing is written: a room event costs one row however many members it
 * has, and a user without an open inbox costs nothing.
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
   * Starts (or shares) the user's activity. `snapshot` is the user's rooms, read after this call: joins and
   * departures committed meanwhile are heard and reconciled with it by seq; a snapshot of a watch that has one
   * already changes nothing older than what is known. `ready` settles once the watch covers every room of the user
   * (or its snapshot failed: it then follows joins only, until a later watch brings one); `stop` ends this share
   * of it (idempotent).
   */
  watch(userId: string, snapshot: Promise<MembershipSnapshot>): { ready: Promise<void>; stop: Unsubscribe } {
    let watch = this.watches.get(userId);
    if (watch) watch.subscriptions++;
    else {
      watch = this.create(userId);
      this.watches.set(userId, watch);
    }
    const current = watch;
    const applied = snapshot.then(
      (rooms) => {
        if (current.subscriptions > 0) this.applySnapshot(current, rooms);
      },
      (error: unknown) => {
        if (current.subscriptions > 0 && !current.snapshotApplied) {
          this.log.warn({ err: error, userId }, 'inbox: could not read the rooms to watch; RoomActivity follows joins until a later inbox reads them');
        }
      },
    );
    let stopped = false;
    return {
      ready: current.snapshotApplied ? Promise.resolve() : Promise.race([current.ready, applied]),
      stop: () => {
        if (stopped) return;
        stopped = true;
        if (--current.subscriptions > 0) return;
        current.stopUserListener();
        for (const stopListening of current.rooms.values()) stopListening();
        current.rooms.clear();
        current.signal.clear();
        if (this.watches.get(userId) === current) this.watches.delete(userId);
      },
    };
  }

  /** Number of users whose activity is watched (for tests and stats). */
  watchedUsers(): number {
    return this.watches.size;
  }

  private create(userId: string): Watch {
    let markReady!: () => void;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const watch: Watch = {
      userId,
      subscriptions: 1,
      rooms: new Map(),
      knownAsOf: new Map(),
      ready,
      markReady: () => {
        watch.snapshotApplied = true;
        markReady();
      },
      snapshotApplied: false,
      // Listening to the user's own log starts before the snapshot is read: nothing falls between the two.
      stopUserListener: this.source.subscribe(userStream(userId), (heard) => {
        const event = heard as UserEvent; // a user's stream carries user events only
        if (event.kind !== 'JOINED_ROOM' && event.kind !== 'REMOVED_FROM_ROOM') return;
        this.applyFact(watch, event.roomId, event.kind === 'JOINED_ROOM', event.seq);
      }),
      signal: new ThrottledSignal<number>(this.clock, this.throttleMs, (roomId) => {
        // Only while still a member: a window that closes after a departure sends nothing.
        if (!watch.rooms.has(roomId)) return;
        this.userEvents.publish(userId, { kind: 'ROOM_ACTIVITY', userId, roomId, at: new Date(this.clock.now()) });
      }),
      changes: 0,
    };
    return watch;
  }

  private applySnapshot(watch: Watch, snapshot: MembershipSnapshot): void {
    const members = new Set(snapshot.roomIds);
    for (const roomId of new Set([...members, ...watch.rooms.keys()])) this.applyFact(watch, roomId, members.has(roomId), snapshot.asOfSeq);
    watch.markReady();
  }

  /** Applies "member or not of `roomId` as of `seq`" unless something newer is known of that room. */
  private applyFact(watch: Watch, roomId: string, member: boolean, seq: number): void {
    if (watch.subscriptions === 0 || seq <= (watch.knownAsOf.get(roomId) ?? -1)) return;
    watch.knownAsOf.set(roomId, seq);
    const listening = watch.rooms.get(roomId);
    if (member && !listening) {
      watch.rooms.set(
        roomId,
        // A room's stream carries room events only.
        this.source.subscribe(roomStream(roomId), (event) => {
          if (isActivity(event as RoomEvent, watch.userId)) watch.signal.set(roomId, ++watch.changes);
        }),
      );
    } else if (!member && listening) {
      listening();
      watch.rooms.delete(roomId);
      watch.signal.forget(roomId); // a window still open sends nothing about a room the user left
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
