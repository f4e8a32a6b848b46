import type { EntityManager } from 'typeorm';
import { isUuid } from '../ids.js';
import type { MembershipRole } from '../entities/room-membership.entity.js';
import type { Room } from '../entities/room.entity.js';
import { queryRows } from '../query-rows.js';
import { lockRoom } from './room-log.js';
import { ROOM_COLUMNS, roomFromRow, type RoomRow } from './room-rows.js';

/** A room together with where the viewer stands in it. */
export interface RoomAccess {
  room: Room;
  /** The viewer's role, or null when not a member. */
  role: MembershipRole | null;
  /** The viewer has an open invitation. */
  invited: boolean;
  /** Seq of the event that began the viewer's membership (0 for the creator, or when not a member). */
  joinedSeq: number;
}

/** Whose access to which room. */
export interface RoomAccessKey {
  readonly viewerId: string;
  readonly roomId: string;
}

interface RoomAccessRow extends RoomRow {
  ord: string;
  viewer_role: MembershipRole | null;
  viewer_joined_seq: number | null;
  viewer_invited: boolean;
}

/**
 * Loads rooms with each viewer's membership and invitation, for any number of (viewer, room) pairs in one
 * statement; null where the room does not exist. Plain SQL: this runs for nearly every operation, and entity
 * hydration through the query builder costs more than the query.
 */
export async function loadRoomAccesses(db: EntityManager, keys: readonly RoomAccessKey[]): Promise<(RoomAccess | null)[]> {
  const found: (RoomAccess | null)[] = keys.map(() => null);
  const valid = keys.flatMap((key, index) => (isUuid(key.roomId) ? [{ ...key, index }] : []));
  if (valid.length === 0) return found;
  const rows = await queryRows<RoomAccessRow>(
    db,
    `SELECT p.ord, ${ROOM_COLUMNS},
            m.role AS viewer_role, m.joined_seq AS viewer_joined_seq, i.user_id IS NOT NULL AS viewer_invited
     FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS p(room_id, user_id, ord)
     JOIN rooms r ON r.id = p.room_id
     LEFT JOIN room_memberships m ON m.room_id = r.id AND m.user_id = p.user_id
     LEFT JOIN room_invitations i ON i.room_id = r.id AND i.user_id = p.user_id`,
    [valid.map((key) => key.roomId), valid.map((key) => key.viewerId)],
    { prepareAs: 'parley_room_accesses' },
  );
  for (const row of rows) {
    const room = roomFromRow(row);
    found[valid[Number(row.ord) - 1]!.index] = { room, role: row.viewer_role, invited: row.viewer_invited, joinedSeq: row.viewer_joined_seq ?? 0 };
  }
  return found;
}

/** A room and the viewer's membership and invitation in one statement; null when the room does not exist. */
export async function loadRoomAccess(db: EntityManager, viewer: { readonly id: string }, roomId: string): Promise<RoomAccess | null> {
  const [access] = await loadRoomAccesses(db, [{ viewerId: viewer.id, roomId }]);
  return access ?? null;
}

/**
 * As loadRoomAccess, but locks the room row first (`FOR UPDATE`), so that membership cannot change under the
 * caller until its transaction ends. Use inside a transaction that then appends to the room's log.
 */
export async function lockRoomAccess(tx: EntityManager, viewer: { readonly id: string }, roomId: string): Promise<RoomAccess | null> {
  if (!isUuid(roomId)) return null;
  await lockRoom(tx, roomId);
  return loadRoomAccess(tx, viewer, roomId);
}

