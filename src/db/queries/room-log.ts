import type { EntityManager } from 'typeorm';
import { Message } from '../entities/message.entity.js';
import { RoomEventRecord, type RoomEventData, type RoomEventKind } from '../entities/room-event.entity.js';
import { queryRows } from '../query-rows.js';

/** The columns of a room event to log. */
export interface RoomEventRow {
  kind: RoomEventKind;
  actorId: string;
  messageId?: string | undefined;
  targetUserId?: string | undefined;
  data?: RoomEventData | undefined;
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

/** Inserts an event into the room's log inside `tx`, at the room's next seq. Its `createdAt` is not read back. */
export async function insertRoomEvent(tx: EntityManager, roomId: string, event: RoomEventRow): Promise<RoomEventRecord> {
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
  return record;
}

/** Logged events with seq > `afterSeq`, ascending, at most `limit`, each with its message as stored now. */
export function readRoomEventRecordsAfter(db: EntityManager, roomId: string, afterSeq: number, limit: number): Promise<RoomEventRecord[]> {
  return db
    .createQueryBuilder(RoomEventRecord, 'event')
    .leftJoinAndMapOne('event.message', Message, 'message', 'message.id = event.message_id')
    .where('event.room_id = :roomId AND event.seq > :afterSeq', { roomId, afterSeq })
    .orderBy('event.seq', 'ASC')
    .limit(limit)
    .getMany();
}
