import type { EntityManager } from 'typeorm';
import { queryRows } from '../query-rows.js';

/** Who wrote what where: the message whose @names are resolved. */
export interface MentionContext {
  roomId: string;
  authorId: string;
}

/**
 * The users that @names stand for in a room, in no particular order, each once: for each name, the member of the
 * room whose username (ignoring case) is its longest form (see MentionName), when that member is a live account,
 * is not the author and has no block with the author in either direction. Run it under the room's lock, so that
 * membership cannot change before the mentions are stored.
 */
export async function resolveMentionedMembers(tx: EntityManager, context: MentionContext, names: readonly (readonly string[])[]): Promise<string[]> {
  if (names.length === 0) return [];
  const ords = names.flatMap((forms, ord) => forms.map(() => ord));
  const forms = names.flat();
  const rows = await queryRows<{ id: string }>(
    tx,
    `WITH form AS (
       SELECT * FROM unnest($3::int[], $4::text[]) AS f(ord, name)
     ), named AS (
       SELECT DISTINCT ON (f.ord) u.id
       FROM form f
       JOIN users u ON lower(u.username) COLLATE "C" = f.name AND u.deleted_at IS NULL
       JOIN room_memberships m ON m.room_id = $1 AND m.user_id = u.id
       ORDER BY f.ord, length(f.name) DESC
     )
     SELECT DISTINCT n.id FROM named n
     WHERE n.id <> $2
       AND NOT EXISTS (
         SELECT 1 FROM user_blocks b
         WHERE (b.blocker_id = $2 AND b.blocked_id = n.id) OR (b.blocker_id = n.id AND b.blocked_id = $2)
       )`,
    [context.roomId, context.authorId, ords, forms],
  );
  return rows.map((row) => row.id);
}

/**
 * Makes `userIds` the message's active mentions: rows of users no longer named become inactive, rows of users
 * named again become active, and users named for the first time get a row. Returns those first-time users, the
 * ones to notify (a mention notifies once per message and user, whatever the edits).
 */
export async function storeMentions(
  tx: EntityManager,
  message: { id: string; roomId: string; seq: number },
  userIds: readonly string[],
): Promise<string[]> {
  const rows = await queryRows<{ user_id: string }>(
    tx,
    `WITH dropped AS (
       UPDATE message_mentions SET active = false WHERE message_id = $1 AND active AND user_id <> ALL($4::uuid[])
     ), revived AS (
       UPDATE message_mentions SET active = true WHERE message_id = $1 AND NOT active AND user_id = ANY($4::uuid[])
     )
     INSERT INTO message_mentions (message_id, user_id, room_id, seq)
     SELECT $1, u.id, $2, $3 FROM unnest($4::uuid[]) AS u(id)
     WHERE NOT EXISTS (SELECT 1 FROM message_mentions x WHERE x.message_id = $1 AND x.user_id = u.id)
     RETURNING user_id`,
    [message.id, message.roomId, message.seq, userIds],
  );
  return rows.map((row) => row.user_id);
}

/** The active mentions of each message, as ids of live accounts ordered by username (ignoring case); for DataLoader. */
export async function activeMentionsOf(db: EntityManager, messageIds: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await queryRows<{ message_id: string; user_id: string }>(
    db,
    `SELECT mm.message_id, mm.user_id FROM message_mentions mm JOIN users u ON u.id = mm.user_id
     WHERE mm.message_id = ANY($1::uuid[]) AND mm.active AND u.deleted_at IS NULL
     ORDER BY mm.message_id, lower(u.username) COLLATE "C", u.id`,
    [messageIds],
  );
  const byMessage = new Map<string, string[]>();
  for (const row of rows) {
    let users = byMessage.get(row.message_id);
    if (!users) byMessage.set(row.message_id, (users = []));
    users.push(row.user_id);
  }
  return byMessage;
}

/**
 * For each room of `roomIds` the user is a member of: the messages after the user's read position that are not
 * deleted and mention the user (actively), or in a DIRECT room every such message by the other participant (the
 * unread count). Rooms the user is not a member of are absent. One statement.
 */
export async function unreadMentionCounts(db: EntityManager, userId: string, roomIds: readonly string[]): Promise<Map<string, number>> {
  const rows = await queryRows<{ room_id: string; mentions: string }>(
    db,
    `SELECT m.room_id,
            CASE WHEN r.kind = 'DIRECT' THEN
              (SELECT count(*) FROM messages x
               WHERE x.room_id = m.room_id AND x.seq > m.last_read_seq AND x.deleted_at IS NULL AND x.author_id <> m.user_id)
            ELSE
              (SELECT count(*) FROM message_mentions mm JOIN messages x ON x.id = mm.message_id
               WHERE mm.user_id = m.user_id AND mm.room_id = m.room_id AND mm.seq > m.last_read_seq
                 AND mm.active AND x.deleted_at IS NULL)
            END AS mentions
     FROM room_memberships m JOIN rooms r ON r.id = m.room_id
     WHERE m.user_id = $1 AND m.room_id = ANY($2::uuid[])`,
    [userId, roomIds],
  );
  return new Map(rows.map((row) => [row.room_id, Number(row.mentions)]));
}
