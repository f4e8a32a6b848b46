import {
  ParleyInboxCursorDocument,
  ParleyInboxDocument,
  ParleyInboxEventsPageDocument,
  type ParleyInboxEventsPageQuery,
  type ParleyInboxSubscription,
} from './__generated__/graphql.js';
import type { OperationRunner } from './operations.js';
import { queryText } from './operations.js';
import type { StreamDefinition } from './stream-follower.js';

/** An event of `inbox`, as the SDK selects it. */
export type InboxEvent = ParleyInboxSubscription['inbox'];

/** A page of the viewer's persisted inbox events (oldest first). */
export type InboxEventsPage = ParleyInboxEventsPageQuery['inboxEvents'];

/** Told to `onResync` when the server skipped inbox events: rebuild from `rooms` and `fetchInboxEvents`. */
export interface InboxResync {
  lastSeq: number;
  cursor: string;
  fetchInboxEvents(page?: { last?: number; before?: string | null }): Promise<InboxEventsPage>;
}

/** How `inbox` is followed: starts from `inboxCursor`, read before subscribing. */
export function inboxStream(runner: OperationRunner): StreamDefinition<InboxEvent, InboxResync> {
  const fetchInboxEvents = async (page: { last?: number; before?: string | null } = {}) =>
    (await runner.run(ParleyInboxEventsPageDocument, { last: page.last ?? 50, before: page.before ?? null }, { route: 'auto' })).inboxEvents;
  return {
    query: queryText(ParleyInboxDocument),
    variables: (after) => ({ after }),
    event: (data) => (data as ParleyInboxSubscription).inbox,
    async start() {
      const { inboxCursor } = await runner.run(ParleyInboxCursorDocument, {}, { route: 'auto' });
      return { cursor: inboxCursor, lastSeq: null };
    },
    resync: (event) =>
      event.__typename === 'InboxResyncRequired' ? { lastSeq: event.lastSeq, cursor: event.cursor, fetchInboxEvents } : undefined,
  };
}
