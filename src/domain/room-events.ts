import type { Message } from '../db/entities/message.entity.js';
import type { RoomEventData, RoomEventKind } from '../db/entities/room-event.entity.js';
import type { PublicUser } from './users.service.js';

/** A change that was committed to a room's log: it has a seq and is replayed on resume. */
export interface PersistedRoomEvent {
  readonly kind: RoomEventKind;
  readonly roomId: string;
  readonly seq: number;
  readonly at: Date;
  readonly actorId: string | null;
  readonly messageId: string | null;
  readonly targetUserId: string | null;
  readonly data: RoomEventData;
  /** The message the event is about, as stored when the event was read or published (saves a lookup). */
  readonly message?: Message;
  /** The user who made the change, when the publisher knows it (saves a lookup per rendering). */
  readonly actor?: PublicUser;
  /**
   * The message's reactions as of this event, when the publisher read them under the room's lock: a live event
   * then shows the message exactly as it was at its seq, not as it is when rendered.
   */
  readonly reactions?: ReactionSnapshot;
}

/** A message's reactions at one point of its room's log: each emoji with who used it, in first-use order. */
export type ReactionSnapshot = readonly { readonly emoji: string; readonly userIds: readonly string[] }[];

/** Someone started or stopped typing. Ephemeral: no seq, never replayed. */
export interface TypingChangedEvent {
  readonly kind: 'TYPING_CHANGED';
  readonly roomId: string;
  readonly seq?: undefined;
  readonly at: Date;
  readonly userId: string;
  readonly isTyping: boolean;
}

/** Someone's read position moved. Ephemeral: no seq, never replayed. */
export interface ReadReceiptEvent {
  readonly kind: 'READ_RECEIPT';
  readonly roomId: string;
  readonly seq?: undefined;
  readonly at: Date;
  readonly userId: string;
  readonly lastReadSeq: number;
}

/** Told to a resuming subscriber that is more than the replay limit behind; it continues live after `lastSeq`. */
export interface ResyncRequiredEvent {
  readonly kind: 'RESYNC_REQUIRED';
  readonly roomId: string;
  readonly seq?: undefined;
  readonly at: Date;
  readonly lastSeq: number;
}

export type EphemeralRoomEvent = TypingChangedEvent | ReadReceiptEvent;

/** What travels on the bus, published after commit. */
export type RoomEvent = PersistedRoomEvent | EphemeralRoomEvent;

/** What a room stream delivers to a subscriber. */
export type DeliveredRoomEvent = RoomEvent | ResyncRequiredEvent;

/** Where the domain publishes room events (after commit): to the stream of the room. */
export interface RoomEvents {
  publish(roomId: string, event: RoomEvent): void;
}

export function isPersisted(event: DeliveredRoomEvent): event is PersistedRoomEvent {
  return event.seq !== undefined;
}
