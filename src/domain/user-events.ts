import type { UserEventKind } from '../db/entities/user-event.entity.js';

/**
 * An event committed to a user's own log (the inbox): it has the user's gap-free seq and is replayed on resume.
 * Plain data (ids and seqs): what crosses from the writer to the fan-out can cross a process boundary as is.
 */
export interface PersistedUserEvent {
  readonly kind: UserEventKind;
  readonly userId: string;
  readonly seq: number;
  readonly at: Date;
  readonly roomId: string;
  readonly actorId: string | null;
  readonly messageId: string | null;
}

/** Something changed in a room of the user (coalesced per room and user). Ephemeral: no seq, never replayed. */
export interface RoomActivityEvent {
  readonly kind: 'ROOM_ACTIVITY';
  readonly userId: string;
  readonly seq?: undefined;
  readonly at: Date;
  readonly roomId: string;
}

/** Told to a resuming inbox subscriber that is more than the replay limit behind; it continues live after `lastSeq`. */
export interface InboxResyncRequiredEvent {
  readonly kind: 'INBOX_RESYNC_REQUIRED';
  readonly userId: string;
  readonly seq?: undefined;
  readonly at: Date;
  readonly lastSeq: number;
}

/**
 * Told once per inbox subscription, when any replay is done and every room of the user is watched: state read
 * after it (`rooms`) misses no activity. Ephemeral, for that subscriber only.
 */
export interface InboxLiveEvent {
  readonly kind: 'INBOX_LIVE';
  readonly userId: string;
  readonly seq?: undefined;
  readonly at: Date;
}

/** What travels on a user's stream, published after commit. */
export type UserEvent = PersistedUserEvent | RoomActivityEvent;

/** What the inbox delivers to a subscriber. */
export type DeliveredUserEvent = UserEvent | InboxResyncRequiredEvent | InboxLiveEvent;

/** Where the domain publishes user events (after commit). */
export interface UserEvents {
  publish(userId: string, event: UserEvent): void;
}
