import { In, type EntityManager } from 'typeorm';
import { Message } from '../entities/message.entity.js';
import { queryRows } from '../query-rows.js';

/** The newest message of each room that is not deleted (rooms with none are absent). */
export async function latestMessagesOf(db: EntityManager, roomIds: readonly string[]): Promise<Message[]> {
  if (roomIds.length === 0) return [];
  // Per room, the (room_id, seq) index walked backwards to the first message that is not deleted.
  const rows = await queryRows<{ id: string | null }>(
    db,
    `SELECT (SELECT m.id FROM messages m WHERE m.room_id = r.id AND m.deleted_at IS NULL ORDER BY m.seq DESC LIMIT 1) AS id
     FROM unnest($1::uuid[]) AS r(id)`,
    [roomIds],
  );
  const ids = rows.flatMap((row) => (row.id ? [row.id] : []));
  return ids.length === 0 ? [] : db.findBy(Message, { id: In(ids) });
}
