import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SendMessageDocument } from './__generated__/graphql.js';
import { type InboxEvent, type ParleyClient, type RoomEvent, type RoomResync } from '../src/client/index.js';
import { Recorder, roomHistory, seqsOf, statusLog, testClient, within } from './helpers/client-sdk.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { HttpClient } from './helpers/http-client.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { createTestDatabase, startTestServer, type TestDatabase, type TestServer } from './helpers/test-server.js';

/** `count` messages sent by `sender` straight to the server (not through the proxy), one after another. */
async function sendDirect(sender: HttpClient, roomId: string, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await sender.data(SendMessageDocument, { roomId, body: `${prefix}-${i}` });
}

/** Every seq from `from` to `to`. */
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('the SDK follows streams exactly once across drops', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let alice: TestUser;
  let bob: TestUser;
  const clients: ParleyClient[] = [];
  before(async () => {
    server = await startTestServer();
    proxy = await TcpProxy.start(Number(new URL(server.url).port));
    [alice, bob] = [await signUp(server), await signUp(server)];
  });
  after(async () => {
    for (const client of clients) await client.close();
    await proxy.close();
    await server.stop();
  });

  it('a room stream started without a cursor receives a message sent right after it is ready, then every event once and in seq order across cuts and stalls', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const client = testClient(proxy.url, alice.token);
    clients.push(client);
    const events = new Recorder<RoomEvent>();
    const stream = client.roomEvents(room.id, { onEvent: events.push });
    await within(stream.ready, 5_000, 'the stream start');
    await bob.http.data(SendMessageDocument, { roomId: room.id, body: 'right after subscribing' });
    await events.until((e) => e.length === 1, 5_000, 'the first message');
    const statuses = statusLog(client);
    for (let round = 0; round < 4; round++) {
      await sendDirect(bob.http, room.id, `before-${round}`, 3);
      if (round % 2 === 0) proxy.cut();
      else {
        // A stalled network sends no close: the SDK notices by its unanswered ping.
        proxy.stall();
        await statuses.until((s) => s.at(-1) !== 'connected', 5_000, `the stall noticed (round ${round})`);
      }
      await sendDirect(bob.http, room.id, `during-${round}`, 3);
      proxy.restore();
      await statuses.until((s) => s.at(-1) === 'connected' && s.length > 1, 10_000, `reconnected (round ${round})`);
      statuses.items.splice(0, statuses.items.length - 1);
    }
    const history = await roomHistory(bob.http, room.id);
    const last = history.at(-1)!.seq;
    await events.until((e) => seqsOf(e).at(-1) === last, 10_000, `seq ${last}`);
    assert.deepEqual(seqsOf(events.items), range(history[0]!.seq, last), 'every seq once, in order');
    assert.deepEqual(
      events.items.map((e) => (e.__typename === 'MessageAdded' ? e.message.body : e.__typename)),
      history.map((m) => m.body),
    );
    assert.equal(stream.cursor, history.at(-1)!.cursor, 'the handle carries the cursor of the last event delivered');
  });

  it('a stream given `after` resumes there and repeats nothing before it', async () => {
    const room = await roomWithMembers(alice, [bob]);
    await sendDirect(bob.http, room.id, 'old', 3);
    const [, second] = await roomHistory(bob.http, room.id);
    const client = testClient(proxy.url, alice.token);
    clients.push(client);
    const events = new Recorder<RoomEvent>();
    client.roomEvents(room.id, { after: second!.cursor, onEvent: events.push });
    await sendDirect(bob.http, room.id, 'new', 2);
    await events.until((e) => e.length === 3, 5_000, 'the replay and two new messages');
    assert.deepEqual(seqsOf(events.items), range(second!.seq + 1, second!.seq + 3));
  });

  it('ResyncRequired calls onResync with the room, lastSeq, cursor and a history pager, then the stream continues', async () => {
    const small = await startTestServer({ REPLAY_LIMIT: '3' });
    try {
      const [owner, member] = [await signUp(small), await signUp(small)];
      const room = await roomWithMembers(owner, [member]);
      await sendDirect(member.http, room.id, 'seen', 1);
      const [first] = await roomHistory(member.http, room.id);
      await sendDirect(member.http, room.id, 'missed', 5);
      const client = testClient(small.url, owner.token);
      clients.push(client);
      const events = new Recorder<RoomEvent>();
      const resyncs = new Recorder<{ resync: RoomResync; bodies: string[] }>();
      client.roomEvents(room.id, {
        after: first!.cursor,
        onEvent: events.push,
        onResync: async (resync) => resyncs.push({ resync, bodies: (await resync.fetchHistory({ last: 10 })).edges.map((e) => e.node.body) }),
      });
      await resyncs.until((r) => r.length === 1, 5_000, 'onResync');
      const { resync, bodies } = resyncs.items[0]!;
      assert.equal(resync.roomId, room.id);
      assert.equal(resync.lastSeq, first!.seq + 5);
      assert.deepEqual(bodies, ['seen-0', ...range(0, 4).map((i) => `missed-${i}`)]);
      await sendDirect(member.http, room.id, 'after', 1);
      await events.until((e) => e.length === 1, 5_000, 'the next message');
      assert.deepEqual(seqsOf(events.items), [first!.seq + 6]);
    } finally {
      await small.stop();
    }
  });

  it('the inbox is followed from inboxCursor: every mention once, in order, across cuts; onLive when it is live', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const client = testClient(proxy.url, alice.token);
    clients.push(client);
    const events = new Recorder<InboxEvent>();
    const live = new Recorder<true>();
    const inbox = client.inbox({ onEvent: events.push, onLive: () => live.push(true) });
    await within(inbox.ready, 5_000, 'the inbox start');
    await live.until((l) => l.length === 1, 5_000, 'onLive');
    const mentioned = () => events.items.filter((e) => e.__typename === 'Mentioned');
    for (let round = 0; round < 3; round++) {
      await bob.http.data(SendMessageDocument, { roomId: room.id, body: `@${alice.username} before ${round}` });
      proxy.cut();
      await bob.http.data(SendMessageDocument, { roomId: room.id, body: `@${alice.username} during ${round}` });
      proxy.restore();
    }
    await events.until(() => mentioned().length === 6, 10_000, 'six mentions');
    const seqs = mentioned().map((e) => e.seq!);
    assert.deepEqual(seqs, range(seqs[0]!, seqs[0]! + 5), 'each mention once, in seq order');
    await live.until((l) => l.length >= 2, 5_000, 'InboxLive again on a resumed subscription');
  });
});

describe('the SDK across a server restart and a slow-consumer close', () => {
  let database: TestDatabase;
  const secret = randomBytes(32).toString('hex');
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.drop());

  it('a follower resumes on the restarted server (same database) with nothing lost or repeated', async () => {
    const first = await startTestServer({ JWT_SECRET: secret }, { database });
    const proxy = await TcpProxy.start(Number(new URL(first.url).port));
    let second: TestServer | undefined;
    const client = await (async () => {
      const [alice, bob] = [await signUp(first), await signUp(first)];
      const room = await roomWithMembers(alice, [bob]);
      const client = testClient(proxy.url, alice.token);
      const events = new Recorder<RoomEvent>();
      await client.roomEvents(room.id, { onEvent: events.push }).ready;
      await sendDirect(bob.http, room.id, 'first server', 3);
      await events.until((e) => e.length === 3, 5_000, 'three messages');
      await first.stop();
      second = await startTestServer({ JWT_SECRET: secret }, { database });
      proxy.retarget(Number(new URL(second.url).port));
      const bobAgain = new HttpClient(second.url, bob.token);
      await sendDirect(bobAgain, room.id, 'second server', 3);
      const history = await roomHistory(bobAgain, room.id);
      await events.until((e) => e.length >= 6, 10_000, 'six messages');
      assert.deepEqual(seqsOf(events.items), history.map((m) => m.seq));
      return client;
    })().finally(async () => {
      await proxy.close();
      await second?.stop();
    });
    await client.close();
  });

  it('a follower closed with 1013 as a slow consumer resumes from its cursor with every event once', async () => {
    const server = await startTestServer({ WS_MAX_BUFFERED_BYTES: '1024' });
    const proxy = await TcpProxy.start(Number(new URL(server.url).port));
    try {
      const [alice, bob] = [await signUp(server), await signUp(server)];
      const room = await roomWithMembers(alice, [bob]);
      // A long ping interval: only the server's slow-consumer close may end this socket.
      const follower = testClient(proxy.url, alice.token, { keepAliveMs: 60_000, pongTimeoutMs: 60_000 });
      try {
        const events = new Recorder<RoomEvent>();
        await follower.roomEvents(room.id, { onEvent: events.push }).ready;
        await sendDirect(bob.http, room.id, 'warm-up', 1);
        await events.until((e) => e.length === 1, 5_000, 'the first message');
        proxy.stall();
        const body = 'x'.repeat(3_000);
        let sent = 0;
        while (server.stats().counters.slowConsumersDropped === 0) {
          assert.ok(sent < 3_000, 'the server closed the stalled follower as a slow consumer');
          await bob.http.data(SendMessageDocument, { roomId: room.id, body: `${sent++} ${body}` });
        }
        await sendDirect(bob.http, room.id, 'after the close', 2);
        proxy.restore();
        const history = await roomHistory(bob.http, room.id);
        await events.until((e) => seqsOf(e).at(-1) === history.at(-1)!.seq, 20_000, 'the last message');
        assert.deepEqual(seqsOf(events.items), history.map((m) => m.seq), `every one of ${history.length} messages once, in order`);
      } finally {
        await follower.close();
      }
    } finally {
      await proxy.close();
      await server.stop();
    }
  });
});
