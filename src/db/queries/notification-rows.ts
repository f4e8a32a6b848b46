import type { EntityManager } from 'typeorm';
import type { RoomKind } from '../entities/room.entity.js';
import { queryRows } from '../query-rows.js';

/** What never changes about a room: its kind and, for a DIRECT room, its two participants (the same one twice for a note to oneself). */
export interface RoomShape {
  kind: RoomKind;
  directUserLowId: string | null;
  directUserHighId: string | null;
}

/** The kind and DIRECT pair of a room; null when there is no such room (any more). */
export async function readRoomShape(db: EntityManager, roomId: string): Promise<RoomShape | null> {
  const [row] = await queryRows<RoomShape>(
    db,
    `SELECT kind, direct_user_low_id AS "directUserLowId", direct_user_high_id AS "directUserHighId" FROM rooms WHERE id = $1`,
    [roomId],
  );
  return row ?? null;
}

/** A room's stored name (for a DIRECT room, both usernames) and a message author's username, read when notifying. */
export interface NotificationNames {
  roomName: string;
  authorUsername: string;
}

/** The names a notification shows; null when the room or the author is gone. */
export async function readNotificationNames(db: EntityManager, roomId: string, authorId: string): Promise<NotificationNames | null> {
  const [row] = await queryRows<NotificationNames>(
    db,
    `SELECT r.name AS "roomName", u.username AS "authorUsername" FROM rooms r, users u WHERE r.id = $1 AND u.id = $2`,
    [roomId, authorId],
  );
  return row ?? null;
}
