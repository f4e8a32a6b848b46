import type { EntityManager } from 'typeorm';
import { Message } from '../db/entities/message.entity.js';
import { RoomEventRecord, type RoomEventData, type RoomEventKind } from '../db/entities/room-event.entity.js';
import type { PersistedRoomEvent } from './room-events.js';

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
 * Takes the room's next seq. Must run inside the transaction that stores the change: the row lock it takes on the
 * room orders concurrent writers, so seqs follow commit order with no gaps.
 */
export async function takeNextSeq(tx: EntityManager, roomId: string): Promise<number> {
  const [rows]: [{ last_seq: number }[], number] = await tx.query(
    'UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq',
    [roomId],
  );
  const row = rows[0];
  if (!row) throw new Error(`room ${roomId} vanished inside a transaction`);
  return row.last_seq;
}

/**
 * Appends an event to the room's log inside `tx`, at `seq` when the caller already took it (a message is stored
 * under its event's seq), otherwise at the next seq. Returns the event to publish once `tx` has committed.
 */
export async function appendRoomEvent(
  tx: EntityManager,
  roomId: string,
  event: NewRoomEvent,
  seq?: number,
): Promise<PersistedRoomEvent> {
  const record = tx.create(RoomEventRecord, {
    roomId,
    seq: seq ?? (await takeNextSeq(tx, roomId)),
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
