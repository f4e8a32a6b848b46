import type { EntityManager } from 'typeorm';
import { Message } from '../entities/message.entity.js';

/** One page of a room's messages by keyset on (room_id, seq). */
export interface PageQuery {
  /** Exclusive bounds on seq. */
  afterSeq: number | null;
  beforeSeq: number | null;
  size: number;
  /** true: oldest first from `afterSeq` (first/after); false: newest first from `beforeSeq` (last/before). */
  forward: boolean;
}

export interface PageRows {
  /** Ascending seq order, whichever direction was read. */
  messages: Message[];
  /** More messages lie beyond the page's far end. */
  more: boolean;
  /** Messages lie on the other side of the bound the page started from. */
  beyondStart: boolean;
}

/** Reads one page; never OFFSET. Two statements at most, whatever the page size. */
export async function readMessagePage(db: EntityManager, roomId: string, query: PageQuery): Promise<PageRows> {
  const select = db.createQueryBuilder(Message, 'message').where('message.room_id = :roomId', { roomId });
  if (query.afterSeq !== null) select.andWhere('message.seq > :afterSeq', { afterSeq: query.afterSeq });
  if (query.beforeSeq !== null) select.andWhere('message.seq < :beforeSeq', { beforeSeq: query.beforeSeq });
  const rows = await select
    .orderBy('message.seq', query.forward ? 'ASC' : 'DESC')
    .limit(query.size + 1) // one more than asked tells whether the page continues
    .getMany();
  const messages = rows.slice(0, query.size);
  if (!query.forward) messages.reverse();
  const startBound = query.forward ? query.afterSeq : query.beforeSeq;
  const beyondStart = startBound !== null && (await existsBeyond(db, roomId, startBound, query.forward));
  return { messages, more: rows.length > query.size, beyondStart };
}

async function existsBeyond(db: EntityManager, roomId: string, seq: number, below: boolean): Promise<boolean> {
  const rows: unknown[] = await db.query(
    `SELECT 1 FROM messages WHERE room_id = $1 AND seq ${below ? '<=' : '>='} $2 LIMIT 1`,
    [roomId, seq],
  );
  return rows.length > 0;
}
