import type { EntityManager } from 'typeorm';
import { queryRows } from '../query-rows.js';

/** A message's reactions at one point: each emoji with who used it, in first-use order. */
export type ReactionRows = { emoji: string; userIds: string[] }[];

/** A message's reactions as stored now (inside a change: as of the change), in the order ReactionsService.summarize lists them. */
export async function readReactionSnapshot(db: EntityManager, messageId: string): Promise<ReactionRows> {
  const rows = await queryRows<{ emoji: string; user_ids: string[] }>(
    db,
    `SELECT emoji, array_agg(user_id::text ORDER BY created_at) AS user_ids
     FROM message_reactions WHERE message_id = $1
     GROUP BY emoji ORDER BY min(created_at), emoji`,
    [messageId],
  );
  return rows.map((row) => ({ emoji: row.emoji, userIds: row.user_ids }));
}
