import type { EntityManager } from 'typeorm';
import { queryRows } from '../query-rows.js';

/** The latest seq of each of these rooms' logs (absent: no such room), in one statement. */
export async function latestRoomSeqs(db: EntityManager, roomIds: readonly string[]): Promise<Map<string, number>> {
  if (roomIds.length === 0) return new Map();
  const rows = await queryRows<{ id: string; last_seq: number }>(db, 'SELECT id, last_seq FROM rooms WHERE id = ANY($1::uuid[])', [roomIds]);
  return new Map(rows.map((row) => [row.id, row.last_seq]));
}

/** The latest seq of each of these users' own logs (absent: no such user), in one statement. */
export async function latestUserEventSeqs(db: EntityManager, userIds: readonly string[]): Promise<Map<string, number>> {
  if (userIds.length === 0) return new Map();
  const rows = await queryRows<{ id: string; last_event_seq: number }>(db, 'SELECT id, last_event_seq FROM users WHERE id = ANY($1::uuid[])', [userIds]);
  return new Map(rows.map((row) => [row.id, row.last_event_seq]));
}
