import type { EntityManager } from 'typeorm';
import type { Message } from '../db/entities/message.entity.js';
import type { RoomEventRecord } from '../db/entities/room-event.entity.js';
import { insertRoomEvent, readRoomEventRecordsAfter, type RoomEventRow } from '../db/queries/room-log.js';
import type { PersistedRoomEvent, ReactionSnapshot } from './room-events.js';
import type { Viewer } from './viewer.js';

/** An event to append to a room's log, with what its live copy carries. */
export interface NewRoomEvent extends RoomEventRow {
  /** Attached to the published event so subscribers need not load it: the message as of this event. */
  message?: Message;
  /** The message's reactions as of this event (see PersistedRoomEvent.reactions). */
  reactions?: ReactionSnapshot;
}

/** Appends an event to the room's log inside `tx`, at the next seq. Returns the event to publish once `tx` commits. */
export async function appendRoomEvent(tx: EntityManager, roomId: string, event: NewRoomEvent): Promise<PersistedRoomEvent> {
  const record = await insertRoomEvent(tx, roomId, event);
  // created_at is the transaction's now(); the publisher's clock is close enough for the live copy.
  const persisted = toPersistedEvent(record, event.message, new Date());
  return event.reactions ? { ...persisted, reactions: event.reactions } : persisted;
}

/** The MESSAGE_ADDED event of a message stored with its event in one statement (see insertMessageOfMember). */
export function messageAddedEvent(message: Message, author: Viewer): PersistedRoomEvent {
  return {
    // A sender is a live account (a deleted one has no tokens left).
    actor: { id: author.id, username: author.username, deleted: false },
    kind: 'MESSAGE_ADDED',
    roomId: message.roomId,
    seq: message.seq,
    at: message.createdAt,
    actorId: message.authorId,
    messageId: message.id,
    targetUserId: null,
    data: {},
    message,
    reactions: [], // a new message has none
  };
}

/** Logged events with seq > `afterSeq`, ascending, at most `limit`, each with its message as stored now. */
export async function readRoomEventsAfter(db: EntityManager, roomId: string, afterSeq: number, limit: number): Promise<PersistedRoomEvent[]> {
  const records = await readRoomEventRecordsAfter(db, roomId, afterSeq, limit);
  return records.map((record) => toPersistedEvent(record, record.message, record.createdAt));
}

function toPersistedEvent(record: RoomEventRecord, message: Message | undefined, at: Date): PersistedRoomEvent {
  return {
    kind: record.kind,
    roomId: record.roomId,
    seq: record.seq,
    at,
    actorId: record.actorId,
    messageId: record.messageId,
    targetUserId: record.targetUserId,
    data: record.data,
    ...(message ? { message } : {}),
  };
}
