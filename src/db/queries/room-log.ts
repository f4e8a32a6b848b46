import type { EntityManager } from 'typeorm';
import { Message } from '../entities/message.entity.js';
import { RoomEventRecord, type RoomEventData, type RoomEventKind } from '../entities/room-event.entity.js';
import { queryRows } from '../query-rows.js';
import type { PersistedRoomEvent, ReactionSnapshot } from '../../domain/room-events.js';
import type { PublicUser } from '../../domain/users.service.js';

export interface NewRoomEvent {
  kind: RoomEventKind;
  actorId: string;
  messageId?: string;
  targetUserId?: string;
  data?: RoomEventData;
  /** Attached to the published event so subscribers need not load it: the message as of this event. */
  message?: Message;
  /** The message's reactions as of this event (see PersistedRoomEvent.reactions). */
  reactions?: ReactionSnapshot;
}

/**
 * Locks the room's row until `tx` ends. Every change to a room takes this lock (directly or through the seq
 * counter on the same row), so a change can check the room's state and rely on it until it commits.
 */
export async function lockRoom(tx: EntityManager, roomId: string): Promise<void> {
  await tx.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [roomId]);
}

/**
 * Takes the room's next seq. Runs inside the transaction that stores the change: the row lock it takes orders
 * concurrent writers, so seqs follow commit order with no gaps.
 */
async function takeNextSeq(tx: EntityManager, roomId: string): Promise<number> {
  const rows = await queryRows<{ last_seq: number }>(tx, 'UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq', [roomId]);
  const row = rows[0];
  if (!row) throw new Error(`room ${roomId} vanished inside a transaction`);
  return row.last_seq;
}

/** Appends an event to the room's log inside `tx`, at the next seq. Returns the event to publish once `tx` commits. */
export async function appendRoomEvent(tx: EntityManager, roomId: string, event: NewRoomEvent): Promise<PersistedRoomEvent> {
  const record = tx.create(RoomEventRecord, {
    roomId,
    seq: await takeNextSeq(tx, roomId),
    kind: event.kind,
    actorId: event.actorId,
    messageId: event.messageId ?? null,
    targetUserId: event.targetUserId ?? null,
    data: event.data ?? {},
  });
  await tx.insert(RoomEventRecord, record);
  // created_at is the transaction's now(); the publisher's clock is close enough for the live copy.
  const persisted = toPersistedEvent(record, event.message, new Date());
  return event.reactions ? { ...persisted, reactions: event.reactions } : persisted;
}

/** The MESSAGE_ADDED event of a message stored with its event in one statement (see insertMessageWithEvent). */
export function messageAddedEvent(message: Message, author: PublicUser): PersistedRoomEvent {
  return {
    actor: { id: author.id, username: author.username },
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

/** Logged events with seq > `afterSeq`, ascending, at most `limit`, each with its message as stored now. */
export async function readRoomEventsAfter(
  db: EntityManager,
  roomId: string,
  afterSeq: number,
  limit: number,
): Promise<PersistedRoomEvent[]> {
  const records = await db
    .createQueryBuilder(RoomEventRecord, 'event')
    .leftJoinAndMapOne('event.message', Message, 'message', 'message.id = event.message_id')
    .where('event.room_id = :roomId AND event.seq > :afterSeq', { roomId, afterSeq })
    .orderBy('event.seq', 'ASC')
    .limit(limit)
    .getMany();
  return records.map((record) => toPersistedEvent(record, record.message, record.createdAt));
}
