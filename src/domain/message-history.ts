import type { EntityManager } from 'typeorm';
import { Message } from '../db/entities/message.entity.js';
import type { Room } from '../db/entities/room.entity.js';
import { decodeCursor, encodeCursor, requireReached } from './cursor.js';
import { BadUserInputError } from './errors.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** Relay connection arguments for a room's history. */
export interface HistoryArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface MessageEdge {
  cursor: string;
  node: Message;
}

export interface MessagePage {
  /** Ascending seq order, whichever direction was paged. */
  edges: MessageEdge[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

interface PageQuery {
  /** Exclusive bounds on seq. */
  afterSeq: number | null;
  beforeSeq: number | null;
  size: number;
  /** true: oldest first from `afterSeq` (first/after); false: newest first from `beforeSeq` (last/before). */
  forward: boolean;
}

/**
 * Validates the connection arguments. Without `first` or `last` the page is `first: 50` when only `after` is given
 * and otherwise `last: 50` (the newest messages).
 * @throws BadUserInputError for both first and last, a size outside 0-100, or a malformed or foreign cursor, or one
 *   ahead of the room.
 */
function toPageQuery(room: Pick<Room, 'id' | 'lastSeq'>, args: HistoryArgs): PageQuery {
  const roomId = room.id;
  const { first, last, after, before } = args;
  if (first != null && last != null) throw new BadUserInputError('Pass first or last, not both');
  for (const [name, value] of [['first', first], ['last', last]] as const) {
    if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) {
      throw new BadUserInputError(`${name} must be between 0 and ${MAX_PAGE_SIZE}`, name);
    }
  }
  const afterSeq = after != null ? requireReached(decodeCursor(after, roomId, 'after'), room.lastSeq, 'after') : null;
  const beforeSeq = before != null ? requireReached(decodeCursor(before, roomId, 'before'), room.lastSeq, 'before') : null;
  const forward = first != null || (last == null && afterSeq !== null && beforeSeq === null);
  return { afterSeq, beforeSeq, forward, size: (forward ? first : last) ?? DEFAULT_PAGE_SIZE };
}

/** Reads one page of `room` (its lastSeq as the viewer's access check read it) by keyset on (room_id, seq); never OFFSET. Two statements at most, whatever the page size. */
export async function readHistoryPage(db: EntityManager, room: Pick<Room, 'id' | 'lastSeq'>, args: HistoryArgs): Promise<MessagePage> {
  const roomId = room.id;
  const query = toPageQuery(room, args);
  const select = db.createQueryBuilder(Message, 'message').where('message.room_id = :roomId', { roomId });
  if (query.afterSeq !== null) select.andWhere('message.seq > :afterSeq', { afterSeq: query.afterSeq });
  if (query.beforeSeq !== null) select.andWhere('message.seq < :beforeSeq', { beforeSeq: query.beforeSeq });
  const rows = await select
    .orderBy('message.seq', query.forward ? 'ASC' : 'DESC')
    .limit(query.size + 1) // one more than asked tells whether the page continues
    .getMany();
  const more = rows.length > query.size;
  const page = rows.slice(0, query.size);
  if (!query.forward) page.reverse();

  // The other side of the page: does anything lie beyond the cursor we started from?
  const startBound = query.forward ? query.afterSeq : query.beforeSeq;
  const beyondStart = startBound !== null && (await existsBeyond(db, roomId, startBound, query.forward));

  const edges = page.map((node) => ({ cursor: encodeCursor(roomId, node.seq), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: query.forward ? more : beyondStart,
      hasPreviousPage: query.forward ? beyondStart : more,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

async function existsBeyond(db: EntityManager, roomId: string, seq: number, below: boolean): Promise<boolean> {
  const rows: unknown[] = await db.query(
    `SELECT 1 FROM messages WHERE room_id = $1 AND seq ${below ? '<=' : '>='} $2 LIMIT 1`,
    [roomId, seq],
  );
  return rows.length > 0;
}
