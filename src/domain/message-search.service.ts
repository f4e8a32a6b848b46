import type { DataSource } from 'typeorm';
import type { Message } from '../db/entities/message.entity.js';
import { searchMessages } from '../db/queries/message-search.js';
import { indexPendingMessagesOfMember } from '../db/queries/search-index.js';
import type { Logger } from '../logger.js';
import { PageCursors, type ForwardPageArgs, type KeyedPage } from './page-cursor.js';
import type { RateLimits } from './rate-limits.js';
import { requireMembership } from './room-access.js';
import { highlightMatches } from './search-highlight.js';
import { parseSearchQuery } from './search-query.js';
import type { Viewer } from './viewer.js';

/** A message found by search and its body with the matches marked. */
export interface MessageSearchHit {
  message: Message;
  /** The body with every match wrapped in « and ». */
  highlight: string;
}

const SIZES = { default: 20, max: 50 };
/** Key: score, created_at in microseconds, id (see db/queries/message-search.ts). */
const cursors = new PageCursors<readonly [number, number, string]>('searchMessages', ['n', 'i', 'u'], SIZES);
/**
 * Most unindexed messages one search indexes before it reads (README "Search"): beyond it the search is served
 * with the rest still unindexed (and logs so) rather than made to wait for an indexer that is far behind.
 */
export const SEARCH_INDEX_ON_READ_MAX = 5000;

/** Full-text search over the messages of the rooms the viewer is a member of now (README "Search"). */
export class MessageSearchService {
  constructor(
    private readonly db: DataSource,
    private readonly limits: RateLimits,
    private readonly log: Logger,
  ) {}

  /**
   * Live messages matching `query` (see parseSearchQuery) in the viewer's rooms, or only in `roomId`: most relevant
   * first, then newest. Rate-limited per viewer (RATE_LIMIT_SEARCH): each search reads the index of all their rooms.
   * It first indexes those rooms' messages that the search indexer has not reached yet (at most
   * SEARCH_INDEX_ON_READ_MAX), so it finds every message committed before it started.
   * @throws BadUserInputError for a blank or too long query, bad paging arguments or a forged cursor;
   *   NotFoundError when the viewer cannot see `roomId`; ForbiddenError when they can but are not a member;
   *   RateLimitedError.
   */
  async search(viewer: Viewer, query: string, roomId: string | null | undefined, args: ForwardPageArgs): Promise<KeyedPage<MessageSearchHit>> {
    const parsed = parseSearchQuery(query);
    const page = cursors.page(args);
    await this.limits.search(viewer.id);
    if (roomId != null) await requireMembership(this.db.manager, viewer, roomId);
    if (page.size === 0 || parsed.terms.length === 0) return { items: [], hasNextPage: false, hasPreviousPage: page.after !== null };
    const indexed = await indexPendingMessagesOfMember(this.db.manager, { userId: viewer.id, roomId: roomId ?? null, limit: SEARCH_INDEX_ON_READ_MAX });
    if (indexed === SEARCH_INDEX_ON_READ_MAX) {
      this.log.warn({ userId: viewer.id, roomId, indexed }, 'search indexed as many messages as it may: the rest of its rooms\' backlog is not searched (is the search indexer running?)');
    }
    const rows = await searchMessages(this.db.manager, {
      userId: viewer.id,
      roomId: roomId ?? null,
      tsquery: parsed.tsquery,
      after: page.after,
      limit: page.size + 1,
    });
    return cursors.toPage(
      page,
      rows,
      (row) => [row.score, row.createdMicros, row.message.id] as const,
      (row) => ({ message: row.message, highlight: highlightMatches(row.message.body, parsed) }),
    );
  }
}
