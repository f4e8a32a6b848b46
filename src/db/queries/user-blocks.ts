import type { EntityManager } from 'typeorm';
import { queryRows } from '../query-rows.js';

/** Records that `blockerId` blocks `blockedId` when that live account exists; false when already blocked or none. */
export async function insertBlock(db: EntityManager, blockerId: string, blockedId: string): Promise<'blocked' | 'already' | 'no such user'> {
  const rows = await queryRows<{ inserted: boolean }>(
    db,
    `WITH target AS (SELECT id FROM users WHERE id = $2 AND deleted_at IS NULL),
          added AS (
            INSERT INTO user_blocks (blocker_id, blocked_id) SELECT $1, id FROM target
            ON CONFLICT DO NOTHING RETURNING 1
          )
     SELECT EXISTS (SELECT 1 FROM added) AS inserted FROM target`,
    [blockerId, blockedId],
  );
  const row = rows[0];
  return !row ? 'no such user' : row.inserted ? 'blocked' : 'already';
}

/** Removes a block; false when there was none. */
export async function deleteBlock(db: EntityManager, blockerId: string, blockedId: string): Promise<boolean> {
  const rows = await queryRows(db, 'DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2 RETURNING 1', [blockerId, blockedId]);
  return rows.length > 0;
}

/** Of `userIds`, those `blockerId` has blocked. */
export async function blockedAmong(db: EntityManager, blockerId: string, userIds: readonly string[]): Promise<Set<string>> {
  const rows = await queryRows<{ blocked_id: string }>(
    db,
    'SELECT blocked_id FROM user_blocks WHERE blocker_id = $1 AND blocked_id = ANY($2::uuid[])',
    [blockerId, userIds],
  );
  return new Set(rows.map((row) => row.blocked_id));
}

/** The live accounts `blockerId` has blocked, by username. */
export function listBlocked(db: EntityManager, blockerId: string): Promise<{ id: string; username: string }[]> {
  return queryRows(
    db,
    `SELECT u.id, u.username FROM user_blocks b JOIN users u ON u.id = b.blocked_id
     WHERE b.blocker_id = $1 AND u.deleted_at IS NULL ORDER BY lower(u.username) COLLATE "C"`,
    [blockerId],
  );
}

/** Of `userIds`, those who have blocked `blockedId`. */
export async function blockersAmong(db: EntityManager, blockedId: string, userIds: readonly string[]): Promise<Set<string>> {
  const rows = await queryRows<{ blocker_id: string }>(
    db,
    'SELECT blocker_id FROM user_blocks WHERE blocked_id = $1 AND blocker_id = ANY($2::uuid[])',
    [blockedId, userIds],
  );
  return new Set(rows.map((row) => row.blocker_id));
}
