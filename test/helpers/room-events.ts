import { RoomEventsDocument, SendMessageDocument, type RoomEventsSubscription } from '../__generated__/graphql.js';
import type { TestUser } from './fixtures.js';
import { connectWs, waitUntilLiveWith, type TestSubscription, type TestWsClient } from './ws-client.js';

export type RoomEventResult = RoomEventsSubscription['roomEvents'];

/** A roomEvents subscription of one user over its own socket. */
export interface EventFollower {
  ws: TestWsClient;
  sub: TestSubscription<RoomEventsSubscription>;
  /** The next event; fails the test when the subscription errored instead. */
  next(timeoutMs?: number): Promise<RoomEventResult>;
}

export function followRoom(wsUrl: string, user: TestUser, roomId: string, after?: string): EventFollower {
  const ws = connectWs(wsUrl, { authorization: `Bearer ${user.token}` });
  const sub = ws.subscribe(RoomEventsDocument, after === undefined ? { roomId } : { roomId, after });
  return {
    ws,
    sub,
    async next(timeoutMs = 5000) {
      const result = await sub.results.take(timeoutMs, `a room event for ${user.username}`);
      if (!result.data) throw new Error(`expected an event, got ${JSON.stringify(result.errors)}`);
      return result.data.roomEvents;
    },
  };
}

/**
 * Makes every follower live by sending probe messages as `sender` until each has received one; returns the seq
 * after which every follower receives everything.
 */
export async function waitUntilAllLive(followers: EventFollower[], sender: TestUser, roomId: string): Promise<number> {
  const probe = async () => (await sender.http.data(SendMessageDocument, { roomId, body: 'probe' })).sendMessage.seq;
  for (const follower of followers) await waitUntilLiveWith(follower.sub.results, (data) => data.roomEvents, probe);
  // One last probe that every follower receives: reading up to it leaves each at the same point.
  const marker = await probe();
  for (const follower of followers) {
    while ((await follower.next()).seq !== marker);
  }
  return marker;
}
