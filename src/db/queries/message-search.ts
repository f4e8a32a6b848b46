import type { EntityManager } from 'typeorm';
import type { Message } from '../entities/message.entity.js';
import { messageFromRow, type MessageRow } from './message-rows.js';
import { queryRows } from '../query-rows.js';

/** A message that matched, with the key search results are ordered by. */
export interface MessageMatch {
  message: Message;
  /** ts_rank divided by the number of distinct words of the message (normalization 8), × 1,000,000, rounded: higher is more relevant. */
  score: number;
  /** created_at in microseconds since 1970 (the column's whole precision). */
  createdMicros: number;
}

interface MatchRow extends MessageRow {
  score: number;
  created_us: string;
}

/**
 * Live messages in the rooms `userId` is a member of (only `roomId`, when given) that match `tsquery`
 * (`to_tsquery('simple', ...)` input), best score first, then newest, then by id; after `after` (that order's key).
 *
 * The query is rewritten per room of the viewer into the lexemes of messages_search_idx (each prefixed with its
 * room's key: see migration MessageSearch), so the index returns candidates from the viewer's rooms only; the
 * stored search_vector then checks phrases and prefixes exactly and gives the rank.
 */
export async function searchMessages(
  db: EntityManager,
  options: { userId: string; roomId: string | null; tsquery: string; after: readonly [number, number, string] | null; limit: number },
): Promise<MessageMatch[]> {
  const [score, createdMicros, id] = options.after ?? [null, null, null];
  const rows = await queryRows<MatchRow>(
    db,
    `WITH rooms AS (
       SELECT room_id FROM room_memberships WHERE user_id = $1 AND ($2::uuid IS NULL OR room_id = $2)
     ), query AS (
       SELECT to_tsquery('simple', $3) AS plain
     ), keyed AS (
       -- (k1a & k1b) | (k2a & k2b) | ...: the query's lexemes (no ASCII punctuation, so no quote inside one) prefixed
       -- with each room's key; phrases become AND, as the index keeps no positions
       SELECT string_agg(
                '(' || regexp_replace(regexp_replace(query.plain::text, '<[0-9-]+>', '&', 'g'),
                                      '''([^'']*)''', '''' || left(rooms.room_id::text, 8) || '\\1''', 'g') || ')',
                ' | ')::tsquery AS keyed
       FROM query, rooms
       WHERE numnode(query.plain) > 0
     ), matches AS (
       SELECT m.id, m.room_id, m.author_id, m.seq, m.body, m.client_message_id, m.reply_to_id, m.edited_at, m.deleted_at,
              m.created_at, round(ts_rank(m.search_vector, query.plain, 8) * 1000000)::int AS score,
              (extract(epoch FROM m.created_at) * 1000000)::bigint AS created_us
       FROM messages m, query, keyed
       WHERE parley_room_lexemes(m.room_id, m.search_vector) @@ keyed.keyed
         AND m.room_id = ANY (ARRAY(SELECT room_id FROM rooms))
         AND m.search_vector @@ query.plain
         AND m.deleted_at IS NULL
     )
     SELECT * FROM matches
     WHERE $4::int IS NULL OR (score, created_us, id) < ($4::int, $5::bigint, $6::uuid)
     ORDER BY score DESC, created_us DESC, id DESC
     LIMIT $7`,
    [options.userId, options.roomId, options.tsquery, score, createdMicros, id, options.limit],
    { prepareAs: 'parley_search_messages' },
  );
  return rows.map((row) => ({
    message: messageFromRow(row),
    score: row.score,
    createdMicros: Number(row.created_us),
  }));
}
