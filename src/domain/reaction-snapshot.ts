import type { EntityManager } from 'typeorm';
import { queryRows } from '../db/query-rows.js';
import type { ReactionSnapshot } from './room-events.js';
import type { Viewer } from './viewer.js';

/** One emoji's reactions to a message, as the viewer sees them. */
export interface ReactionSummary {
  emoji: string;
  count: number;
  reactedByMe: boolean;
}

/** A message's reactions as stored now (inside a change: as of the change), in the order `summarize` lists them. */
export async function readReactionSnapshot(db: EntityManager, messageId: string): Promise<ReactionSnapshot> {
  const rows = await queryRows<{ emoji: string; user_ids: string[] }>(
    db,
    `SELECT emoji, array_agg(user_id::text ORDER BY created_at) AS user_ids
     FROM message_reactions WHERE message_id = $1
     GROUP BY emoji ORDER BY min(created_at), emoji`,
    [messageId],
  );
  return rows.map((row) => ({ emoji: row.emoji, userIds: row.user_ids }));
}

/** The summaries `viewer` sees for a snapshot: the same as ReactionsService.summarize for the same rows. */
export function summarizeSnapshot(snapshot: ReactionSnapshot, viewer: Viewer | null): ReactionSummary[] {
  return snapshot.map(({ emoji, userIds }) => ({ emoji, count: userIds.length, reactedByMe: viewer !== null && userIds.includes(viewer.id) }));
}
