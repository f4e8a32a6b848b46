import type { EntityManager } from 'typeorm';
import type { Room } from '../entities/room.entity.js';
import { queryRows } from '../query-rows.js';
import { ROOM_COLUMNS, roomFromRow, type RoomRow } from './room-rows.js';

interface ListedRoomRow extends RoomRow {
  name_key: string;
}

/** A public room and the key it is listed by. */
export interface ListedRoom {
  room: Room;
  /** lower(name), the second sort column. */
  nameKey: string;
}

/**
 * Public rooms with members, most members first, then by lower(name) and id (rooms_directory_idx), after
 * `after` (that order's key) and whose lower(name) matches lower(`pattern`) (a LIKE pattern escaped with `\`), if given.
 */
export async function listPublicRooms(
  db: EntityManager,
  options: { pattern: string | null; after: readonly [number, string, string] | null; limit: number },
): Promise<ListedRoom[]> {
  const [count, nameKey, id] = options.after ?? [null, null, null];
  const rows = await queryRows<ListedRoomRow>(
    db,
    `SELECT ${ROOM_COLUMNS}, lower(r.name) AS name_key
     FROM rooms r
     WHERE r.kind = 'PUBLIC' AND r.member_count > 0
       AND ($1::text IS NULL OR lower(r.name) LIKE lower($1) ESCAPE '\\')
       AND ($2::int IS NULL OR r.member_count < $2 OR (r.member_count = $2 AND (lower(r.name), r.id) > ($3::text, $4::uuid)))
     ORDER BY r.member_count DESC, lower(r.name), r.id
     LIMIT $5`,
    [options.pattern, count, nameKey, id, options.limit],
  );
  return rows.map((row) => ({ room: roomFromRow(row), nameKey: row.name_key }));
}

/** A live user and the key it is listed by. */
export interface ListedUser {
  id: string;
  username: string;
  /** lower(username): unique among live accounts, so the whole sort key. */
  usernameKey: string;
}

/**
 * Live accounts whose lower(username) matches lower(`pattern`) (a LIKE pattern escaped with `\`), in lower(username)
 * order after `after`; the users_username_lower_key index serves the match and the order.
 */
export function listUsers(db: EntityManager, options: { pattern: string; after: string | null; limit: number }): Promise<ListedUser[]> {
  return queryRows<ListedUser>(
    db,
    `SELECT id, username, lower(username) COLLATE "C" AS "usernameKey"
     FROM users
     WHERE deleted_at IS NULL AND lower(username) COLLATE "C" LIKE lower($1) ESCAPE '\\'
       AND ($2::text IS NULL OR lower(username) COLLATE "C" > $2)
     ORDER BY lower(username) COLLATE "C"
     LIMIT $3`,
    [options.pattern, options.after, options.limit],
  );
}
