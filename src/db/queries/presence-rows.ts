import type { EntityManager } from 'typeorm';
import { isUuid } from '../ids.js';
import { queryRows } from '../query-rows.js';

/** What PostgreSQL knows of a user's presence, as one viewer may see it. */
export interface PresenceRow {
  id: string;
  username: string;
  deleted: boolean;
  /** When the user was last seen going offline; null if never. */
  lastSeenAt: Date | null;
  /** The user has blocked the viewer. */
  blocksViewer: boolean;
}

/** Which user's presence, for which viewer (null: anonymous). */
export interface PresenceKey {
  readonly userId: string;
  readonly viewerId: string | null;
}

/**
 * The rows for any number of (user, viewer) pairs in one statement, in key order; null where no user has that id
 * (or it is not a UUID).
 */
export async function loadPresenceRows(db: EntityManager, keys: readonly PresenceKey[]): Promise<(PresenceRow | null)[]> {
  const found: (PresenceRow | null)[] = keys.map(() => null);
  const valid = keys.flatMap((key, index) => (isUuid(key.userId) ? [{ ...key, index }] : []));
  if (valid.length === 0) return found;
  const rows = await queryRows<{ ord: string; id: string; username: string; deleted: boolean; last_seen_at: Date | null; blocks_viewer: boolean }>(
    db,
    `SELECT p.ord, u.id, u.username, u.deleted_at IS NOT NULL AS deleted, u.last_seen_at,
            EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = u.id AND b.blocked_id = p.viewer_id) AS blocks_viewer
     FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS p(user_id, viewer_id, ord)
     JOIN users u ON u.id = p.user_id`,
    [valid.map((key) => key.userId), valid.map((key) => key.viewerId)],
    { prepareAs: 'parley_presence_rows' },
  );
  for (const row of rows) {
    found[valid[Number(row.ord) - 1]!.index] = { id: row.id, username: row.username, deleted: row.deleted, lastSeenAt: row.last_seen_at, blocksViewer: row.blocks_viewer };
  }
  return found;
}

/** Stores when users were last seen (a live account only: a deleted one's placeholder keeps none). */
export async function storeLastSeen(db: EntityManager, seen: readonly { userId: string; at: Date }[]): Promise<void> {
  if (seen.length === 0) return;
  await queryRows(
    db,
    `UPDATE users u SET last_seen_at = s.at
     FROM unnest($1::uuid[], $2::timestamptz[]) AS s(id, at)
     WHERE u.id = s.id AND u.deleted_at IS NULL`,
    [seen.map((s) => s.userId), seen.map((s) => s.at)],
  );
}
