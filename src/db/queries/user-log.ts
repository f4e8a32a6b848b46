import type { EntityManager } from 'typeorm';
import { UserEventRecord, type UserEventKind } from '../entities/user-event.entity.js';
import { queryRows } from '../query-rows.js';
import type { PageQuery } from './message-pages.js';

/** The columns of a user event to log. */
export interface UserEventRow {
  kind: UserEventKind;
  roomId: string;
  actorId?: string | null | undefined;
  messageId?: string | null | undefined;
}

/**
 * Appends an event to the user's log inside `tx`, at the user's next seq (users.last_event_seq, whose row lock
 * orders concurrent writers: seqs follow commit order with no gaps). A transaction appending to several users'
 * logs must do it in user id order, so two such transactions cannot deadlock. Null for an unknown user.
 */
export async function insertUserEvent(tx: EntityManager, userId: string, event: UserEventRow): Promise<UserEventRecord | null> {
  const [row] = await queryRows<{ seq: number; created_at: Date }>(
    tx,
    `WITH next AS (UPDATE users SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING last_event_seq)
     INSERT INTO user_events (user_id, seq, kind, room_id, actor_id, message_id)
     SELECT $1, next.last_event_seq, $2, $3, $4, $5 FROM next
     RETURNING seq, created_at`,
    [userId, event.kind, event.roomId, event.actorId ?? null, event.messageId ?? null],
  );
  if (!row) return null;
  return tx.create(UserEventRecord, {
    userId,
    seq: row.seq,
    kind: event.kind,
    roomId: event.roomId,
    actorId: event.actorId ?? null,
    messageId: event.messageId ?? null,
    createdAt: row.created_at,
  });
}

/** Logged events of a user with seq > `afterSeq`, ascending, at most `limit`. */
export function readUserEventRecordsAfter(db: EntityManager, userId: string, afterSeq: number, limit: number): Promise<UserEventRecord[]> {
  return db
    .createQueryBuilder(UserEventRecord, 'event')
    .where('event.user_id = :userId AND event.seq > :afterSeq', { userId, afterSeq })
    .orderBy('event.seq', 'ASC')
    .limit(limit)
    .getMany();
}

/** The seq of the user's latest logged event (0 when there is none, or no such user). */
export async function latestUserEventSeq(db: EntityManager, userId: string): Promise<number> {
  const [row] = await queryRows<{ last_event_seq: number }>(db, 'SELECT last_event_seq FROM users WHERE id = $1', [userId]);
  return row?.last_event_seq ?? 0;
}

/** One page of a user's log by keyset on (user_id, seq), in ascending seq order whichever direction was read. */
export async function readUserEventPage(db: EntityManager, userId: string, query: PageQuery): Promise<{ records: UserEventRecord[]; more: boolean; beyondStart: boolean }> {
  const select = db.createQueryBuilder(UserEventRecord, 'event').where('event.user_id = :userId', { userId });
  if (query.afterSeq !== null) select.andWhere('event.seq > :afterSeq', { afterSeq: query.afterSeq });
  if (query.beforeSeq !== null) select.andWhere('event.seq < :beforeSeq', { beforeSeq: query.beforeSeq });
  const rows = await select
    .orderBy('event.seq', query.forward ? 'ASC' : 'DESC')
    .limit(query.size + 1) // one more than asked tells whether the page continues
    .getMany();
  const records = rows.slice(0, query.size);
  if (!query.forward) records.reverse();
  const startBound = query.forward ? query.afterSeq : query.beforeSeq;
  let beyondStart = false;
  if (startBound !== null) {
    const beyond = await queryRows(db, `SELECT 1 FROM user_events WHERE user_id = $1 AND seq ${query.forward ? '<=' : '>='} $2 LIMIT 1`, [userId, startBound]);
    beyondStart = beyond.length > 0;
  }
  return { records, more: rows.length > query.size, beyondStart };
}

/** Where a user's inbox starts: the latest seq of their log and every room they are a member of. */
export interface InboxStart {
  lastEventSeq: number;
  roomIds: string[];
}

/** InboxStart of each user (absent: no such user), in one statement. */
export async function loadInboxStarts(db: EntityManager, userIds: readonly string[]): Promise<Map<string, InboxStart>> {
  const rows = await queryRows<{ id: string; last_event_seq: number; room_ids: string[] }>(
    db,
    `SELECT u.id, u.last_event_seq, coalesce(array_agg(m.room_id) FILTER (WHERE m.room_id IS NOT NULL), '{}') AS room_ids
     FROM users u LEFT JOIN room_memberships m ON m.user_id = u.id
     WHERE u.id = ANY($1::uuid[])
     GROUP BY u.id`,
    [userIds],
  );
  return new Map(rows.map((row) => [row.id, { lastEventSeq: row.last_event_seq, roomIds: row.room_ids }]));
}
