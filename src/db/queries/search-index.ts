import type { EntityManager } from 'typeorm';
import { queryRows } from '../query-rows.js';

// Filling messages.search_vector, which sends leave NULL (migration AsyncSearchIndex, README "Search").
//
// Every statement here locks the rows it indexes FOR NO KEY UPDATE, the lock an UPDATE of non-key columns takes
// anyway: it does not conflict with the FOR KEY SHARE that inserting a reply, a reaction or a mention takes on the
// message (FOR UPDATE would make those wait). A row indexed, edited or deleted by a transaction that committed
// while a statement waited for its lock is re-checked (search_vector IS NULL AND deleted_at IS NULL) and left out.

/** The vector of a body; as in the Message entity's `searchVector` and migration MessageSearch. */
const VECTOR_OF_BODY = "to_tsvector('simple', parley_search_text(m.body))";

/**
 * Opens the background indexer's statement, so that whoever watches the statements of requests (tests counting
 * them) can tell this one, which runs on a timer, apart.
 */
export const BACKGROUND_INDEXER_TAG = '/* search indexer */';

interface IndexedRow {
  indexed: number;
}

/**
 * Indexes up to `limit` unindexed live messages of any room, skipping rows another transaction holds (another
 * process's indexer, a search indexing its rooms, an edit): concurrent indexers never wait for each other.
 * Returns how many it indexed; fewer than `limit` means the backlog it could reach is done.
 */
export async function indexPendingMessages(db: EntityManager, limit: number): Promise<number> {
  const [row] = await queryRows<IndexedRow>(
    db,
    `${BACKGROUND_INDEXER_TAG} WITH indexed AS (
       UPDATE messages m SET search_vector = ${VECTOR_OF_BODY}
       FROM (
         SELECT id FROM messages WHERE search_vector IS NULL AND deleted_at IS NULL
         LIMIT $1 FOR NO KEY UPDATE SKIP LOCKED
       ) pending
       WHERE m.id = pending.id
       RETURNING 1
     )
     SELECT count(*)::int AS indexed FROM indexed`,
    [limit],
    { prepareAs: 'parley_index_pending_messages' },
  );
  return row!.indexed;
}

/**
 * Indexes up to `limit` unindexed live messages of the rooms `userId` is a member of (only `roomId`, when given),
 * before a search of them. Unlike indexPendingMessages it waits for rows another transaction holds (the row is
 * then indexed, edited or deleted by it, and left out), so once it returns every message committed before it
 * started is indexed, up to `limit`. Rows are locked in id order: two searches over shared rooms cannot deadlock.
 * Returns how many it indexed; `limit` means some may be left.
 */
export async function indexPendingMessagesOfMember(
  db: EntityManager,
  options: { userId: string; roomId: string | null; limit: number },
): Promise<number> {
  const [row] = await queryRows<IndexedRow>(
    db,
    `WITH indexed AS (
       UPDATE messages m SET search_vector = ${VECTOR_OF_BODY}
       FROM (
         SELECT id FROM messages
         WHERE room_id = ANY (ARRAY(SELECT room_id FROM room_memberships WHERE user_id = $1 AND ($2::uuid IS NULL OR room_id = $2)))
           AND search_vector IS NULL AND deleted_at IS NULL
         ORDER BY id
         LIMIT $3 FOR NO KEY UPDATE
       ) pending
       WHERE m.id = pending.id
       RETURNING 1
     )
     SELECT count(*)::int AS indexed FROM indexed`,
    [options.userId, options.roomId, options.limit],
    { prepareAs: 'parley_index_pending_messages_of_member' },
  );
  return row!.indexed;
}

/**
 * Sets an edited message's body, `edited_at` and its search vector from the new body, in one UPDATE: the edit is
 * searchable when it commits, by its new text only.
 */
export async function updateEditedBody(db: EntityManager, messageId: string, body: string, editedAt: Date): Promise<void> {
  await queryRows(
    db,
    `UPDATE messages SET body = $2, edited_at = $3, search_vector = to_tsvector('simple', parley_search_text($2)) WHERE id = $1`,
    [messageId, body, editedAt],
  );
}
