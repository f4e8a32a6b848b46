import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { isUuid } from '../db/ids.js';
import type { PresenceStatus } from '../domain/presence.js';
import type { ManualStatus } from './presence-store.js';
import { DEFAULT_PRESENCE_LEASE_MS, type SharedPresence, type SharedPresenceState } from './shared-presence-store.js';

interface StateRow {
  user_id: string;
  sockets: number;
  gone_at: Date | null;
  manual_status: string | null;
  manual_since: Date | null;
  shown_status: string | null;
  shown_last_seen_at: Date | null;
}

const STATE_COLUMNS = 'p.user_id, p.sockets, p.gone_at, p.manual_status, p.manual_since, p.shown_status, p.shown_last_seen_at';

/**
 * SharedPresenceState in PostgreSQL (tables of migration CrossProcessState): `parley_processes` holds one row per
 * running process with the end of its lease, `presence_sockets` its open sockets per user, `presence_states` per
 * user the sockets over all processes not yet found gone, when the last one closed and which process times the
 * grace period, the manual status and what the user is shown. The cap check is one INSERT ... ON CONFLICT DO
 * UPDATE ... WHERE on the user's row, which PostgreSQL evaluates on the latest version under the row lock: two
 * processes admitting the same user's sockets at once cannot both pass the cap. Lease times are the database's
 * clock, so processes on machines with skewed clocks agree. Statements go to the pool directly (they are not
 * requests' statements and would only clutter the query log).
 */
export class PostgresPresenceState implements SharedPresenceState {
  readonly processId = randomUUID();

  private constructor(
    private readonly pool: Pool,
    private readonly leaseMs: number,
  ) {}

  /** Registers a new process (its lease `leaseMs` long, renewed by `beat`). */
  static async register(pool: Pool, options: { leaseMs?: number } = {}): Promise<PostgresPresenceState> {
    const state = new PostgresPresenceState(pool, options.leaseMs ?? DEFAULT_PRESENCE_LEASE_MS);
    await state.pool.query(`INSERT INTO parley_processes (id, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')`, [state.processId, state.leaseMs]);
    return state;
  }

  async connect(userId: string, maxSockets: number): Promise<SharedPresence | null> {
    const { rows } = await this.pool.query<StateRow>({
      name: 'parley_presence_connect',
      text: `WITH admitted AS (
               INSERT INTO presence_states AS p (user_id, sockets) VALUES ($2::uuid, 1)
               ON CONFLICT (user_id) DO UPDATE SET sockets = p.sockets + 1 WHERE $3::int <= 0 OR p.sockets < $3::int
               RETURNING ${STATE_COLUMNS}
             ), counted AS (
               INSERT INTO presence_sockets (process_id, user_id, sockets) SELECT $1::uuid, user_id, 1 FROM admitted
               ON CONFLICT (process_id, user_id) DO UPDATE SET sockets = presence_sockets.sockets + 1
             )
             SELECT * FROM admitted p`,
      values: [this.processId, userId, maxSockets],
    });
    return rows[0] ? presenceOf(rows[0]) : null;
  }

  async disconnect(userId: string, at: Date): Promise<SharedPresence> {
    // The per-process count may go below zero after this process lost its lease (its counts were taken away): it
    // then holds what changed since, as the user's total does, and `beat` makes both whole.
    const { rows } = await this.pool.query<StateRow>({
      name: 'parley_presence_disconnect',
      text: `WITH left_over AS (
               UPDATE presence_states p SET
                 sockets = GREATEST(p.sockets - 1, 0),
                 gone_at = CASE WHEN p.sockets <= 1 THEN $3::timestamptz ELSE p.gone_at END,
                 grace_process_id = CASE WHEN p.sockets <= 1 THEN $1::uuid ELSE p.grace_process_id END
               WHERE p.user_id = $2::uuid
               RETURNING ${STATE_COLUMNS}
             ), counted AS (
               INSERT INTO presence_sockets (process_id, user_id, sockets) VALUES ($1, $2, -1)
               ON CONFLICT (process_id, user_id) DO UPDATE SET sockets = presence_sockets.sockets - 1
             )
             SELECT * FROM left_over p`,
      values: [this.processId, userId, at],
    });
    if (!rows[0]) throw new Error(`presence: ${userId} disconnected without a record`);
    return presenceOf(rows[0]);
  }

  async setManual(userId: string, manual: ManualStatus | null): Promise<SharedPresence | undefined> {
    const { rows } = await this.pool.query<StateRow>(
      `UPDATE presence_states p SET manual_status = $2, manual_since = $3 WHERE p.user_id = $1 RETURNING ${STATE_COLUMNS}`,
      [userId, manual?.status ?? null, manual?.since ?? null],
    );
    return rows[0] && presenceOf(rows[0]);
  }

  async read(userIds: readonly string[]): Promise<Map<string, SharedPresence>> {
    const ids = userIds.filter(isUuid);
    if (ids.length === 0) return new Map();
    const { rows } = await this.pool.query<StateRow>({
      name: 'parley_presence_read',
      text: `SELECT ${STATE_COLUMNS} FROM presence_states p WHERE p.user_id = ANY($1::uuid[])`,
      values: [ids],
    });
    return new Map(rows.map((row) => [row.user_id, presenceOf(row)]));
  }

  async storeShown(userId: string, shown: { status: PresenceStatus; lastSeenAt: Date | null }): Promise<void> {
    await this.pool.query({
      name: 'parley_presence_shown',
      text: 'UPDATE presence_states SET shown_status = $2, shown_last_seen_at = $3 WHERE user_id = $1',
      values: [userId, shown.status, shown.lastSeenAt],
    });
  }

  async beat(localSockets: ReadonlyMap<string, number>): Promise<void> {
    const renewed = await this.pool.query(
      `UPDATE parley_processes SET heartbeat_at = now(), expires_at = now() + $2 * interval '1 millisecond' WHERE id = $1`,
      [this.processId, this.leaseMs],
    );
    if (renewed.rowCount !== 1) {
      // The lease ran out and another process took this one's counts away: register again. The rows written since
      // hold what changed since then, and each user's total includes just that, so the writes below make both whole.
      await this.pool.query(`INSERT INTO parley_processes (id, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')`, [this.processId, this.leaseMs]);
    }
    // Each named user's row becomes this process's count (none at 0) and the total moves by the difference, so the
    // total stays the sum of the live processes' rows. No operation of this process on these users runs meanwhile
    // (SharedPresenceStore holds their turns), and other processes touch only their own rows and, under its lock,
    // the total.
    const users = [...localSockets.keys()];
    await this.pool.query({
      name: 'parley_presence_beat',
      text: `WITH wanted AS (
               SELECT l.user_id, l.sockets, coalesce(s.sockets, 0) AS had
               FROM unnest($2::uuid[], $3::int[]) AS l(user_id, sockets)
               LEFT JOIN presence_sockets s ON s.process_id = $1 AND s.user_id = l.user_id
             ), kept AS (
               INSERT INTO presence_sockets (process_id, user_id, sockets) SELECT $1, user_id, sockets FROM wanted WHERE sockets <> 0 AND sockets <> had
               ON CONFLICT (process_id, user_id) DO UPDATE SET sockets = excluded.sockets
             ), dropped AS (
               DELETE FROM presence_sockets s USING wanted w WHERE s.process_id = $1 AND s.user_id = w.user_id AND w.sockets = 0
             )
             UPDATE presence_states p SET
               sockets = GREATEST(p.sockets + w.sockets - w.had, 0),
               gone_at = CASE WHEN p.sockets > 0 AND p.sockets + w.sockets - w.had <= 0 THEN now() ELSE p.gone_at END,
               grace_process_id = CASE WHEN p.sockets > 0 AND p.sockets + w.sockets - w.had <= 0 THEN NULL ELSE p.grace_process_id END
             FROM wanted w WHERE p.user_id = w.user_id AND w.sockets <> w.had`,
      values: [this.processId, users, users.map((userId) => localSockets.get(userId)!)],
    });
  }

  async sweep(graceMs: number): Promise<string[]> {
    // One process wins each lapsed row (the DELETE locks it; a concurrent sweep finds it gone). A user left with no
    // socket is gone since the lapse, and nobody times the grace period: the claim below finds them once it ends.
    await this.pool.query(
      `WITH lapsed AS (
         DELETE FROM parley_processes WHERE expires_at < now() RETURNING id, expires_at
       ), lost AS (
         DELETE FROM presence_sockets s USING lapsed WHERE s.process_id = lapsed.id RETURNING s.user_id, s.sockets, lapsed.expires_at
       ), per_user AS (
         SELECT user_id, sum(sockets)::int AS sockets, max(expires_at) AS lapsed_at FROM lost GROUP BY user_id
       )
       UPDATE presence_states p SET
         sockets = GREATEST(p.sockets - u.sockets, 0),
         gone_at = CASE WHEN p.sockets > 0 AND p.sockets - u.sockets <= 0 THEN u.lapsed_at ELSE p.gone_at END,
         grace_process_id = CASE WHEN p.sockets > 0 AND p.sockets - u.sockets <= 0 THEN NULL ELSE p.grace_process_id END
       FROM per_user u WHERE p.user_id = u.user_id`,
    );
    const { rows } = await this.pool.query<{ user_id: string }>(
      `UPDATE presence_states p SET grace_process_id = $1
       WHERE p.sockets = 0 AND p.shown_status IN ('ONLINE', 'AWAY') AND p.gone_at <= now() - $2 * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM parley_processes r WHERE r.id = p.grace_process_id AND r.expires_at >= now())
       RETURNING p.user_id`,
      [this.processId, graceMs],
    );
    return rows.map((row) => row.user_id);
  }

  async close(): Promise<void> {
    await this.pool.query(
      `WITH gone AS (
         DELETE FROM parley_processes WHERE id = $1
       ), lost AS (
         DELETE FROM presence_sockets WHERE process_id = $1 AND sockets <> 0 RETURNING user_id, sockets
       )
       UPDATE presence_states p SET
         sockets = GREATEST(p.sockets - l.sockets, 0),
         gone_at = CASE WHEN p.sockets > 0 AND p.sockets - l.sockets <= 0 THEN now() ELSE p.gone_at END,
         grace_process_id = CASE WHEN p.sockets > 0 AND p.sockets - l.sockets <= 0 THEN NULL ELSE p.grace_process_id END
       FROM lost l WHERE p.user_id = l.user_id`,
      [this.processId],
    );
    await this.pool.query('DELETE FROM presence_sockets WHERE process_id = $1', [this.processId]);
    // The grace periods this process was timing end in a sweep elsewhere.
    await this.pool.query('UPDATE presence_states SET grace_process_id = NULL WHERE grace_process_id = $1', [this.processId]);
  }
}

function presenceOf(row: StateRow): SharedPresence {
  return {
    sockets: row.sockets,
    goneAt: row.gone_at,
    manual: row.manual_status ? { status: row.manual_status as ManualStatus['status'], since: row.manual_since! } : null,
    shown: row.shown_status ? { status: row.shown_status as PresenceStatus, lastSeenAt: row.shown_last_seen_at } : null,
  };
}
