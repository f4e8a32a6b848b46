import { InboxCursorDocument, InboxDocument, InboxEventsDocument, type InboxSubscription } from '../__generated__/graphql.js';
import type { TestUser } from './fixtures.js';
import { connectWs, type TestSubscription, type TestWsClient } from './ws-client.js';

export type InboxEventResult = InboxSubscription['inbox'];

/** An inbox subscription of one user over its own socket. */
export interface InboxFollower {
  ws: TestWsClient;
  sub: TestSubscription<InboxSubscription>;
  /** The next event but InboxLive (RoomActivity too); fails the test when the subscription errored instead. */
  next(timeoutMs?: number): Promise<InboxEventResult>;
  /** The events before the subscription's InboxLive (which it consumes): after it, nothing is missed. */
  untilLive(timeoutMs?: number): Promise<InboxEventResult[]>;
  /** The next persisted event (skipping RoomActivity). */
  nextPersisted(timeoutMs?: number): Promise<InboxEventResult>;
}

export function followInbox(wsUrl: string, user: TestUser, after?: string): InboxFollower {
  const ws = connectWs(wsUrl, { authorization: `Bearer ${user.token}` });
  const sub = ws.subscribe(InboxDocument, after === undefined ? {} : { after });
  const any = async (timeoutMs: number) => {
    const result = await sub.results.take(timeoutMs, `an inbox event for ${user.username}`);
    if (!result.data) throw new Error(`expected an inbox event, got ${JSON.stringify(result.errors)}`);
    return result.data.inbox;
  };
  let live = false;
  const next = async (timeoutMs = 5000) => {
    for (;;) {
      const event = await any(timeoutMs);
      if (event.__typename !== 'InboxLive') return event;
      if (live) throw new Error('a second InboxLive on one subscription');
      live = true;
    }
  };
  return {
    ws,
    sub,
    next,
    async untilLive(timeoutMs = 5000) {
      if (live) throw new Error('InboxLive was consumed already');
      const before: InboxEventResult[] = [];
      for (;;) {
        const event = await any(timeoutMs);
        if (event.__typename === 'InboxLive') {
          live = true;
          return before;
        }
        before.push(event);
      }
    },
    async nextPersisted(timeoutMs = 5000) {
      for (;;) {
        const event = await next(timeoutMs);
        if (event.__typename !== 'RoomActivity') return event;
      }
    },
  };
}

/** The user's inbox cursor now. */
export async function inboxCursor(user: TestUser): Promise<string> {
  return (await user.http.data(InboxCursorDocument, {})).inboxCursor;
}

/** The user's whole inbox log, oldest first (paged forward). */
export async function allInboxEvents(user: TestUser) {
  const nodes = [];
  let after: string | null = null;
  for (;;) {
    const { inboxEvents }: { inboxEvents: { edges: { node: InboxEventResult }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } } } =
      await user.http.data(InboxEventsDocument, after === null ? { first: 100 } : { first: 100, after });
    nodes.push(...inboxEvents.edges.map((edge) => edge.node));
    if (!inboxEvents.pageInfo.hasNextPage || !inboxEvents.pageInfo.endCursor) return nodes;
    after = inboxEvents.pageInfo.endCursor;
  }
}

/** A forged inbox cursor (the format is opaque to clients; tests check that forged ones are refused). */
export function forgedInboxCursor(userId: string, seq: number): string {
  return Buffer.from(`u1:${userId}:${seq}`).toString('base64url');
}
