import type { EntityManager } from 'typeorm';
import type { Message } from '../db/entities/message.entity.js';
import type { Room } from '../db/entities/room.entity.js';
import { readMessagePage, type PageQuery } from '../db/queries/message-pages.js';
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

/**
 * Validates Relay arguments over a gap-free seq (a room's history, a user's inbox); `decode` turns a cursor into a
 * seq, refusing a malformed or foreign one or one ahead of the stream. Without `first` or `last` the page is
 * `first: 50` when only `after` is given and otherwise `last: 50` (the newest).
 * @throws BadUserInputError for both first and last, a size outside 0-100, or whatever `decode` refuses.
 */
export function toSeqPageQuery(args: HistoryArgs, decode: (cursor: string, argumentName: string) => number): PageQuery {
  const { first, last, after, before } = args;
  if (first != null && last != null) throw new BadUserInputError('Pass first or last, not both');
  for (const [name, value] of [['first', first], ['last', last]] as const) {
    if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) {
      throw new BadUserInputError(`${name} must be between 0 and ${MAX_PAGE_SIZE}`, name);
    }
  }
  const afterSeq = after != null ? decode(after, 'after') : null;
  const beforeSeq = before != null ? decode(before, 'before') : null;
  const forward = first != null || (last == null && afterSeq !== null && beforeSeq === null);
  return { afterSeq, beforeSeq, forward, size: (forward ? first : last) ?? DEFAULT_PAGE_SIZE };
}

/** Page info of a page read by `query`, its edges in ascending order. */
export function pageInfoOf(query: PageQuery, edges: readonly { cursor: string }[], more: boolean, beyondStart: boolean): MessagePage['pageInfo'] {
  return {
    hasNextPage: query.forward ? more : beyondStart,
    hasPreviousPage: query.forward ? beyondStart : more,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges.at(-1)?.cursor ?? null,
  };
}

/** A page of `room`'s history (its lastSeq as the viewer's access check read it), edges and page info. */
export async function readHistoryPage(db: EntityManager, room: Pick<Room, 'id' | 'lastSeq'>, args: HistoryArgs): Promise<MessagePage> {
  const query = toSeqPageQuery(args, (cursor, name) => requireReached(decodeCursor(cursor, room.id, name), room.lastSeq, name));
  const { messages, more, beyondStart } = await readMessagePage(db, room.id, query);
  const edges = messages.map((node) => ({ cursor: encodeCursor(room.id, node.seq), node }));
  return { edges, pageInfo: pageInfoOf(query, edges, more, beyondStart) };
}
