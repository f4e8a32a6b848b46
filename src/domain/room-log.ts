import type { EntityManager } from 'typeorm';
import { Message } from '../db/entities/message.entity.js';
import { queryPrepared } from '../db/prepared-query.js';
import { RoomEventRecord, type RoomEventData, type RoomEventKind } from '../db/entities/room-event.entity.js';
import type { PersistedRoomEvent } from './room-events.js';
import type { PublicUser } from './users.service.js';

export interface NewRoomEvent {
  kind: RoomEventKind;
  actorId: string;
  messageId?: string;
  targetUserId?: string;
  data?: RoomEventData;
  /** Attached to the published event so subscribers need not load it. */
  message?: Message;
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
  const [rows]: [{ last_seq: number }[], number] = await tx.query(
    'UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq',
    [roomId],
  );
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
  return toPersistedEvent(record, event.message, new Date());
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
  };
}

interface MessageRow {
  id: string;
  room_id: string;
  author_id: string;
  seq: number;
  body: string;
  client_message_id: string | null;
  reply_to_id: string | null;
  edited_at: Date | null;
  deleted_at: Date | null;
  created_at: Date;
}

/**
 * When the author is a member of the room: takes the room's next seq, stores the message under it and logs its
 * MESSAGE_ADDED event, all in one statement (one round trip, one implicit transaction). The UPDATE's row lock on
 * the room orders concurrent senders, so seqs follow commit order with no gaps; a failure (such as a duplicate
 * clientMessageId) rolls all three back. Null, with nothing stored, when the author is not a member (as of the
 * statement's snapshot) or the room does not exist. `roomId` must be a UUID.
 */
export async function insertMessageOfMember(
  db: EntityManager,
  input: { roomId: string; authorId: string; body: string; clientMessageId: string | null; replyToId: string | null },
): Promise<Message | null> {
  const rows = await queryPrepared<MessageRow>(
    db,
    'parley_insert_message',
    `WITH next AS (
       UPDATE rooms SET last_seq = last_seq + 1
       WHERE id = $1 AND EXISTS (SELECT 1 FROM room_memberships WHERE room_id = $1 AND user_id = $2)
       RETURNING last_seq
     ), message AS (
       INSERT INTO messages (room_id, author_id, seq, body, client_message_id, reply_to_id)
       SELECT $1, $2, next.last_seq, $3, $4, $5 FROM next
       RETURNING id, room_id, author_id, seq, body, client_message_id, reply_to_id, edited_at, deleted_at, created_at
     ), event AS (
       INSERT INTO room_events (room_id, seq, kind, actor_id, message_id)
       SELECT room_id, seq, 'MESSAGE_ADDED', author_id, id FROM message
     )
     SELECT * FROM message`,
    [input.roomId, input.authorId, input.body, input.clientMessageId, input.replyToId],
  );
  const row = rows[0];
  if (!row) return null;
  return Object.assign(new Message(), {
    id: row.id,
    roomId: row.room_id,
    authorId: row.author_id,
    seq: row.seq,
    body: row.body,
    clientMessageId: row.client_message_id,
    replyToId: row.reply_to_id,
    editedAt: row.edited_at,
    deletedAt: row.deleted_at,
    createdAt: row.created_at,
  });
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
