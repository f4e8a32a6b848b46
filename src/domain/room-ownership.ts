import type { EntityManager } from 'typeorm';
import { queryRows } from '../db/query-rows.js';

/**
 * Passes a room's ownership on when its owner leaves (leaveRoom, account deletion): the longest-standing other
 * member (earliest `joined_at`, then lowest user id, so the choice is the same on every run) becomes the owner.
 *
 * Call it inside a RoomChange of `roomId` (the room's lock makes the choice and the removal one step), before or
 * after deleting the leaving member's membership: it ignores `leavingUserId` either way. A no-op when the room
 * still has another owner (so it is safe to call for any leaving member) and when nobody else is left: such a room
 * stays ownerless with `member_count` 0. No event is logged (the log has no kind for it); the new role shows in
 * the member list.
 *
 * @returns the new owner's id, or null when ownership did not move.
 */
export async function passOwnership(tx: EntityManager, roomId: string, leavingUserId: string): Promise<string | null> {
  const [promoted] = await queryRows<{ user_id: string }>(
    tx,
    `UPDATE room_memberships SET role = 'OWNER'
     WHERE room_id = $1
       AND user_id = (SELECT user_id FROM room_memberships
                      WHERE room_id = $1 AND user_id <> $2
                      ORDER BY joined_at, user_id LIMIT 1)
       AND NOT EXISTS (SELECT 1 FROM room_memberships
                       WHERE room_id = $1 AND user_id <> $2 AND role = 'OWNER')
     RETURNING user_id`,
    [roomId, leavingUserId],
  );
  return promoted?.user_id ?? null;
}
