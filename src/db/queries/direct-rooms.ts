import type { EntityManager } from 'typeorm';
import { queryRows } from '../query-rows.js';

/** A live account someone wants a direct room with, and whether it has blocked them. */
export interface DirectPeer {
  id: string;
  username: string;
  blockedAsker: boolean;
}

/** The live account `userId`, and whether it has blocked `askerId`; null when there is none. */
export async function findDirectPeer(db: EntityManager, askerId: string, userId: string): Promise<DirectPeer | null> {
  const [peer] = await queryRows<DirectPeer>(
    db,
    `SELECT u.id, u.username,
            EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = u.id AND b.blocked_id = $1) AS "blockedAsker"
     FROM users u WHERE u.id = $2 AND u.deleted_at IS NULL`,
    [askerId, userId],
  );
  return peer ?? null;
}

/** The id of the direct room of a pair (ids in order), if it exists. */
export async function findDirectRoomId(db: EntityManager, lowId: string, highId: string): Promise<string | null> {
  const [row] = await queryRows<{ id: string }>(
    db,
    'SELECT id FROM rooms WHERE direct_user_low_id = $1 AND direct_user_high_id = $2',
    [lowId, highId],
  );
  return row?.id ?? null;
}

/**
 * Creates the direct room of a pair (ids in order) with both as members, in the caller's transaction; null when
 * it exists already (created by a concurrent call: the unique pair key makes that wait for it, then do nothing).
 * The other participant's membership starts hidden until the first message (hidden_seq 0), so opening a DM puts
 * nothing in anyone else's room list until something is said in it.
 */
export async function insertDirectRoom(tx: EntityManager, pair: { lowId: string; highId: string; name: string; createdById: string }): Promise<string | null> {
  const [room] = await queryRows<{ id: string }>(
    tx,
    `INSERT INTO rooms (name, kind, direct_user_low_id, direct_user_high_id, created_by_id)
     VALUES ($1, 'DIRECT', $2, $3, $4)
     ON CONFLICT (direct_user_low_id, direct_user_high_id) DO NOTHING
     RETURNING id`,
    [pair.name, pair.lowId, pair.highId, pair.createdById],
  );
  if (!room) return null;
  await queryRows(
    tx,
    `INSERT INTO room_memberships (room_id, user_id, role, joined_seq, hidden_seq)
     SELECT $1, user_id, 'MEMBER', 0, CASE WHEN user_id = $4 THEN NULL ELSE 0 END
     FROM unnest(ARRAY[$2::uuid, $3::uuid]) AS p(user_id) GROUP BY user_id`,
    [room.id, pair.lowId, pair.highId, pair.createdById],
  );
  return room.id;
}

/**
 * SQL that is true while the membership aliased `membership` (of the room `roomId`, an SQL expression) shows in its
 * member's room list: not hidden, or a message came after it was hidden (so a send pays nothing to unhide).
 */
export function shownInRoomList(membership: string, roomId: string): string {
  return `(${membership}.hidden_seq IS NULL OR EXISTS (SELECT 1 FROM messages x WHERE x.room_id = ${roomId} AND x.seq > ${membership}.hidden_seq))`;
}

/**
 * Hides a direct room from its member's room list until a message after the room's current seq; false when it was
 * hidden already (and no message came since).
 */
export async function hideForMember(db: EntityManager, roomId: string, userId: string): Promise<boolean> {
  const rows = await queryRows(
    db,
    `UPDATE room_memberships m SET hidden_seq = r.last_seq FROM rooms r
     WHERE m.room_id = $1 AND m.user_id = $2 AND r.id = m.room_id AND ${shownInRoomList('m', 'm.room_id')}
     RETURNING 1`,
    [roomId, userId],
  );
  return rows.length > 0;
}

/** Shows a hidden direct room again in its member's room list. */
export async function unhideForMember(db: EntityManager, roomId: string, userId: string): Promise<void> {
  await queryRows(db, 'UPDATE room_memberships SET hidden_seq = NULL WHERE room_id = $1 AND user_id = $2 AND hidden_seq IS NOT NULL RETURNING 1', [roomId, userId]);
}
