import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { parse, type DocumentNode } from 'graphql';
import { AuthorPresenceDocument, BlockUserDocument, UnblockUserDocument, MyPresenceDocument, SendMessageDocument, SetStatusDocument, WatchPresenceDocument } from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes, postGraphQL } from './helpers/http-client.js';
import { ManualClock } from './helpers/manual-clock.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { connectWs, type TestWsClient } from './helpers/ws-client.js';

const GRACE_MS = 30_000; // PRESENCE_OFFLINE_GRACE's default
const THROTTLE_MS = 2000; // PRESENCE_THROTTLE's default

/** What a test compares of one presence event: whose, which status, and lastSeenAt (an ISO string or null). */
type Seen = [userId: string, status: string, lastSeenAt: string | null];

describe('presence', () => {
  const clock = new ManualClock();
  let server: TestServer;
  const sockets: TestWsClient[] = [];

  before(async () => {
    server = await startTestServer({}, { clock });
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server.stop();
  });

  /** Opens an authenticated socket of `user`: once acknowledged, the server has counted it for presence. */
  async function connect(user: TestUser): Promise<TestWsClient> {
    const ws = connectWs(server.wsUrl, { authorization: `Bearer ${user.token}` });
    sockets.push(ws);
    await ws.connected;
    return ws;
  }

  /** Waits until the server has seen the socket close (its count of open sockets drops), checking as the loop turns. */
  async function drop(ws: TestWsClient): Promise<void> {
    const open = server.stats().sockets;
    ws.drop();
    const deadline = Date.now() + 5000;
    while (server.stats().sockets >= open) {
      if (Date.now() > deadline) assert.fail('the server did not see the socket close');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** `viewer` (on a socket of its own) subscribes to the presence of `userIds`. */
  async function watch(viewer: TestUser, userIds: string[]) {
    const ws = await connect(viewer);
    const subscription = ws.subscribe(WatchPresenceDocument, { userIds });
    const next = async (): Promise<Seen> => {
      const result = await subscription.results.take(5000, 'a presence event');
      assert.ok(result.data, `presence failed: ${JSON.stringify(result.errors)}`);
      const { user, presence } = result.data.presence;
      assert.deepEqual(user.presence, presence, 'User.presence agrees with the event');
      return [user.id, presence.status, presence.lastSeenAt ?? null];
    };
    /** Nothing was sent before the event `marker`'s connecting causes (events of one subscription are in order). */
    const nothingBefore = async (marker: TestUser) => {
      await connect(marker);
      assert.deepEqual(await next(), [marker.id, 'ONLINE', null]);
    };
    return { ws, subscription, next, nothingBefore };
  }

  const setStatus = async (user: TestUser, status: 'ONLINE' | 'AWAY' | 'OFFLINE') => (await user.http.data(SetStatusDocument, { status })).setStatus;
  const user = () => signUp(server);
  const at = (ms: number) => new Date(ms).toISOString();
  const storedLastSeen = async (user: TestUser) =>
    (await server.sql<{ last_seen_at: Date | null }>('SELECT last_seen_at FROM users WHERE id = $1', [user.id]))[0]?.last_seen_at?.toISOString() ?? null;

  it('sends the current state of each user asked for first, in the order asked, duplicates once', async () => {
    const [alice, bob, carol, dave] = await Promise.all([user(), user(), user(), user()]);
    await connect(bob);
    const watcher = await watch(alice, [carol.id, bob.id, carol.id, dave.id]);
    assert.deepEqual(await watcher.next(), [carol.id, 'OFFLINE', null], 'never seen: OFFLINE without a time');
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
    assert.deepEqual(await watcher.next(), [dave.id, 'OFFLINE', null]);
    await watcher.nothingBefore(dave); // carol once, though asked for twice
  });

  it('sends nothing when the last socket reconnects within the grace period: no OFFLINE, no ONLINE', async () => {
    const [alice, bob, marker] = await Promise.all([user(), user(), user()]);
    const watcher = await watch(alice, [bob.id, marker.id]);
    assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', null]);
    await watcher.next(); // the marker's initial state
    await drop(await connect(bob));
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);

    clock.advance(THROTTLE_MS); // out of bob's throttle window: anything now would be sent at once
    const bobs = await connect(bob);
    await drop(bobs);
    clock.advance(GRACE_MS - 1);
    await connect(bob); // back 1 ms before the grace period ends
    clock.advance(GRACE_MS * 2); // the grace timer of the earlier close must not fire into the new session
    await watcher.nothingBefore(marker);
    assert.equal(await storedLastSeen(bob), null, 'nothing was written either');
  });

  it('turns OFFLINE when the grace period ends, with lastSeenAt when the last socket closed, stored in PostgreSQL', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const [first, second] = [await connect(bob), await connect(bob)];
    const watcher = await watch(alice, [bob.id]);
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
    await drop(first);
    clock.advance(GRACE_MS * 2); // one socket is still open
    const closedAt = clock.now();
    await drop(second);
    clock.advance(GRACE_MS - 1);
    assert.equal(await storedLastSeen(bob), null);
    clock.advance(1);
    assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', at(closedAt)], 'the first event since ONLINE');
    assert.equal(await storedLastSeen(bob), at(closedAt));
    const late = await watch(alice, [bob.id]);
    assert.deepEqual(await late.next(), [bob.id, 'OFFLINE', at(closedAt)], 'a new subscriber starts from the same state');

    clock.advance(THROTTLE_MS);
    await connect(bob);
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null], 'lastSeenAt is null while connected');
  });

  it('AWAY and OFFLINE set by hand last through a reconnect, ONLINE clears them, and they lapse with the grace period', async () => {
    const [alice, bob, marker] = await Promise.all([user(), user(), user()]);
    const bobs = await connect(bob);
    const watcher = await watch(alice, [bob.id, marker.id]);
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
    await watcher.next();

    clock.advance(THROTTLE_MS);
    assert.deepEqual(await setStatus(bob, 'AWAY'), { status: 'AWAY', lastSeenAt: null });
    assert.deepEqual(await watcher.next(), [bob.id, 'AWAY', null]);
    assert.deepEqual((await bob.http.data(MyPresenceDocument, {})).me.presence, { status: 'AWAY', lastSeenAt: null });

    clock.advance(THROTTLE_MS);
    const invisibleSince = clock.now();
    assert.deepEqual(await setStatus(bob, 'OFFLINE'), { status: 'OFFLINE', lastSeenAt: at(invisibleSince) });
    assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', at(invisibleSince)]);
    assert.equal(await storedLastSeen(bob), at(invisibleSince));
    clock.advance(THROTTLE_MS);
    assert.deepEqual(await setStatus(bob, 'OFFLINE'), { status: 'OFFLINE', lastSeenAt: at(invisibleSince) }, 'set again: the time others see stays');

    await drop(bobs);
    clock.advance(GRACE_MS - 1);
    const bobsAgain = await connect(bob);
    clock.advance(THROTTLE_MS);
    assert.deepEqual(await setStatus(bob, 'ONLINE'), { status: 'ONLINE', lastSeenAt: null });
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null], 'still invisible after the reconnect, until ONLINE');

    clock.advance(THROTTLE_MS);
    await setStatus(bob, 'AWAY');
    assert.deepEqual(await watcher.next(), [bob.id, 'AWAY', null]);
    const leftAt = clock.now();
    await drop(bobsAgain);
    clock.advance(GRACE_MS);
    assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', at(leftAt)]);
    assert.deepEqual(await setStatus(bob, 'AWAY'), { status: 'OFFLINE', lastSeenAt: at(leftAt) }, 'without a socket, a status changes nothing');
    clock.advance(THROTTLE_MS);
    await connect(bob);
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null], 'AWAY lapsed with the grace period');
    await watcher.nothingBefore(marker);
  });

  it('sends at most one change per user per throttle interval, the latest, and none for a flip back', async () => {
    const [alice, bob, marker1, marker2] = await Promise.all([user(), user(), user(), user()]);
    await connect(bob);
    const watcher = await watch(alice, [bob.id, marker1.id, marker2.id]);
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
    await watcher.next();
    await watcher.next();

    clock.advance(THROTTLE_MS);
    await setStatus(bob, 'AWAY'); // sent at once: the window had passed
    assert.deepEqual(await watcher.next(), [bob.id, 'AWAY', null]);
    clock.advance(500);
    await setStatus(bob, 'ONLINE');
    await setStatus(bob, 'OFFLINE');
    const invisibleSince = clock.now();
    clock.advance(THROTTLE_MS - 501);
    await watcher.nothingBefore(marker1); // held back until the window ends
    clock.advance(1);
    assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', at(invisibleSince)], 'one event, the latest state');

    clock.advance(500);
    await setStatus(bob, 'AWAY');
    await setStatus(bob, 'OFFLINE'); // back to what was sent last
    clock.advance(THROTTLE_MS);
    await watcher.nothingBefore(marker2);
  });

  it('executes a change once for every watcher with the same selection, whatever ids each asked for; a viewer-dependent selection per watcher', async () => {
    const [bob, alice, carol, dave, erin] = await Promise.all([user(), user(), user(), user(), user()]);
    await connect(bob);
    clock.advance(THROTTLE_MS); // out of bob's throttle window
    const shared = parse('subscription ($ids: [ID!]!) { presence(userIds: $ids) { user { id username } presence { status } } }');
    const personal = parse('subscription ($ids: [ID!]!) { presence(userIds: $ids) { user { id blockedByMe } presence { status } } }');
    const open = async (viewer: TestUser, document: DocumentNode, ids: string[]) => {
      const sub = (await connect(viewer)).subscribe(document as never, { ids });
      const next = async () => {
        const result = await sub.results.take(5000, `presence for ${viewer.username}`);
        assert.ok(result.data, JSON.stringify(result.errors));
        return (result.data as { presence: { user: { id: string }; presence: { status: string } } }).presence;
      };
      for (let i = 0; i < ids.length; i++) await next(); // the initial states
      return next;
    };
    await dave.http.data(BlockUserDocument, { userId: bob.id });
    const watchers = [await open(alice, shared, [bob.id]), await open(carol, shared, [alice.id, bob.id]), await open(erin, shared, [bob.id, carol.id])];
    const daves = await open(dave, personal, [bob.id]);
    const before = { ...server.stats().counters };
    await setStatus(bob, 'AWAY');
    for (const next of watchers) assert.deepEqual(await next(), { user: { id: bob.id, username: bob.username }, presence: { status: 'AWAY' } });
    assert.deepEqual(await daves(), { user: { id: bob.id, blockedByMe: true }, presence: { status: 'AWAY' } }, 'rendered for dave');
    const after = server.stats().counters;
    assert.equal(after.sharedEventRenders - before.sharedEventRenders, 1, 'one execution for the three shared watchers');
    assert.equal(after.sharedEventDeliveries - before.sharedEventDeliveries, 3, 'the viewer-dependent selection is not shared');
  });

  it('a subscriber hears only about the users it asked for', async () => {
    const [alice, bob, carol, marker] = await Promise.all([user(), user(), user(), user()]);
    const watcher = await watch(alice, [bob.id, marker.id]);
    await watcher.next();
    await watcher.next();
    await connect(carol);
    await setStatus(carol, 'AWAY');
    await watcher.nothingBefore(marker);
    await connect(bob);
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
  });

  it('shows a user who blocked the viewer, and a deleted account, as OFFLINE without a time, and sends no changes of theirs', async () => {
    const [alice, bob, carol, deleted, marker] = await Promise.all([user(), user(), user(), user(), user()]);
    // Blocks are written directly: blocking has its own tests, and presence only reads user_blocks.
    await server.sql('INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2)', [carol.id, alice.id]);
    await server.sql(`UPDATE users SET deleted_at = now(), last_seen_at = now() WHERE id = $1`, [deleted.id]);
    const roomId = (await roomWithMembers(carol, [alice, bob])).id;
    await carol.http.data(SendMessageDocument, { roomId, body: 'hello' });
    await connect(carol);

    const watcher = await watch(alice, [carol.id, deleted.id, marker.id]);
    assert.deepEqual(await watcher.next(), [carol.id, 'OFFLINE', null]);
    assert.deepEqual(await watcher.next(), [deleted.id, 'OFFLINE', null]);
    await watcher.next();
    clock.advance(THROTTLE_MS);
    await setStatus(carol, 'AWAY');
    await watcher.nothingBefore(marker);

    const authorPresence = async (viewer: TestUser) =>
      (await viewer.http.data(AuthorPresenceDocument, { roomId })).messages.edges.find((e) => e.node.author.id === carol.id)?.node.author.presence;
    assert.deepEqual(await authorPresence(alice), { status: 'OFFLINE', lastSeenAt: null }, 'User.presence applies the block too');
    assert.deepEqual(await authorPresence(bob), { status: 'AWAY', lastSeenAt: null });
    const bobs = await watch(bob, [carol.id]);
    assert.deepEqual(await bobs.next(), [carol.id, 'AWAY', null]);
  });

  it('turns a user OFFLINE for a running subscription of the one they block, and back when they unblock', async () => {
    const [alice, bob, marker1, marker2] = await Promise.all([user(), user(), user(), user()]);
    await connect(bob);
    const watcher = await watch(alice, [bob.id, marker1.id, marker2.id]);
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
    await watcher.next();
    await watcher.next();
    await bob.http.data(BlockUserDocument, { userId: alice.id });
    assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', null], 'the block hides bob at once');
    clock.advance(THROTTLE_MS);
    await setStatus(bob, 'AWAY');
    await watcher.nothingBefore(marker1); // bob's changes no longer reach alice
    await bob.http.data(UnblockUserDocument, { userId: alice.id });
    assert.deepEqual(await watcher.next(), [bob.id, 'AWAY', null], 'unblocked: what everyone else sees');
    clock.advance(THROTTLE_MS);
    await setStatus(bob, 'ONLINE');
    assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
    await watcher.nothingBefore(marker2);
  });

  it('refuses no ids, more than 100 distinct ones, ids of no user, and viewers who are not signed in', async () => {
    const [alice, bob] = await Promise.all([user(), user()]);
    const ws = await connect(alice);
    /** A refused subscription: one result with errors (graphql-js reports an error thrown by `subscribe`), then complete. */
    const refusal = async (userIds: string[], socket = ws) => {
      const subscription = socket.subscribe(WatchPresenceDocument, { userIds });
      const result = await subscription.results.take(5000, 'the refusal');
      assert.deepEqual(await subscription.ended, { kind: 'complete' });
      assert.equal(result.data, undefined);
      return errorCodes(result);
    };
    assert.deepEqual(await refusal([]), ['BAD_USER_INPUT']);
    assert.deepEqual(await refusal(Array.from({ length: 101 }, () => randomUUID())), ['BAD_USER_INPUT']);
    assert.deepEqual(await refusal([bob.id, 'not-a-uuid']), ['NOT_FOUND']);
    assert.deepEqual(await refusal([bob.id, randomUUID()]), ['NOT_FOUND']);

    const hundred = [bob.id, ...Array.from({ length: 99 }, () => alice.id)]; // 100 ids, 2 distinct
    const accepted = ws.subscribe(WatchPresenceDocument, { userIds: hundred });
    assert.ok((await accepted.results.take(5000)).data);
    accepted.unsubscribe();

    const anonymous = connectWs(server.wsUrl);
    sockets.push(anonymous);
    await anonymous.connected;
    assert.deepEqual(await refusal([bob.id], anonymous), ['UNAUTHENTICATED']);
    assert.deepEqual(errorCodes(await postGraphQL(server.url, SetStatusDocument, { status: 'AWAY' })), ['UNAUTHENTICATED']);
  });
});
