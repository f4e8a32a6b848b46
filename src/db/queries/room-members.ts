import type { EntityManager } from 'typeorm';
import type { MembershipRole } from '../entities/room-membership.entity.js';
import { queryRows } from '../query-rows.js';

/** A member as listed, with the key of its place in the list. */
export interface ListedMember {
  userId: string;
  role: MembershipRole;
  joinedAt: Date;
  /** 0 for the owner, 1 for everyone else: the first sort column. */
  rank: number;
  /** lower(username) in the C collation: the second. */
  usernameKey: string;
}

/** A room's members, owner first, then by lower(username) and user id, after `after` (that order's key). */
export function listRoomMembers(
  db: EntityManager,
  roomId: string,
  options: { after: readonly [number, string, string] | null; limit: number },
): Promise<ListedMember[]> {
  const [rank, usernameKey, userId] = options.after ?? [null, null, null];
  return queryRows<ListedMember>(
    db,
    `SELECT m.user_id AS "userId", m.role, m.joined_at AS "joinedAt",
            (m.role <> 'OWNER')::int AS rank, lower(u.username) COLLATE "C" AS "usernameKey"
     FROM room_memberships m JOIN users u ON u.id = m.user_id
     WHERE m.room_id = $1
       AND ($2::int IS NULL OR ((m.role <> 'OWNER')::int, lower(u.username) COLLATE "C", m.user_id) > ($2, $3::text COLLATE "C", $4::uuid))
     ORDER BY rank, lower(u.username) COLLATE "C", m.user_id
     LIMIT $5`,
    [roomId, rank, usernameKey, userId, options.limit],
  );
}

/** Of `roomIds`, those `userId` is a member of. */
export async function memberRoomIds(db: EntityManager, userId: string, roomIds: readonly string[]): Promise<Set<string>> {
  const rows = await queryRows<{ room_id: string }>(
    db,
    'SELECT room_id FROM room_memberships WHERE user_id = $1 AND room_id = ANY($2::uuid[])',
    [userId, roomIds],
  );
  return new Set(rows.map((row) => row.room_id));
}
