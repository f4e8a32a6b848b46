import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SendMessageDocument } from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { settledHeapUsed } from './helpers/heap.js';
import { ManualClock } from './helpers/manual-clock.js';
import { RawGraphQLWs } from './helpers/raw-graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { connectWs } from './helpers/ws-client.js';
import { MessageAddedDocument } from './__generated__/graphql.js';
import { SLOW_CONSUMER_CLOSE_CODE } from '../src/transport/ws-direct-delivery.js';

const MESSAGES = (roomId: string) =>
  `subscription { messageAdded(roomId: "${roomId}") { id body seq author { username } room { id name } } }`;

/** Waits until `condition` holds, checking as the event loop turns; fails after `timeoutMs`. */
async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('fan-out at scale', () => {
  let server: TestServer;
  let users: TestUser[];
  let roomId: string;
  const sockets: RawGraphQLWs[] = [];

  before(async () => {
    server = await startTestServer(
      { WS_MAX_BUFFERED_BYTES: '65536', MESSAGE_MAX_LENGTH: '100000' },
      { clock: new ManualClock(), recordSql: false }, // a record of every statement would itself grow the heap
    );
    users = [];
    for (let i = 0; i < 10; i++) users.push(await signUp(server));
    roomId = (await roomWithMembers(users[0]!, users.slice(1))).id;
  });
  after(async () => {
    for (const ws of sockets) ws.close();
    await server.stop();
  });

  it('executes an event once for 1,000 identical subscriptions by 10 users, and once per viewer for a viewer-dependent one', async () => {
    const clients: RawGraphQLWs[] = [];
    for (let s = 0; s < 100; s++) {
      const ws = new RawGraphQLWs(server.wsUrl);
      sockets.push(ws);
      clients.push(ws);
      await ws.init({ authorization: `Bearer ${users[s % 10]!.token}` });
      for (let i = 0; i < 10; i++) ws.subscribe(`s${i}`, MESSAGES(roomId));
      ws.subscribe('mine', `subscription { messageAdded(roomId: "${roomId}") { body room { unreadCount } } }`);
    }
    await until(() => server.stats().subscriptions === 1100, 20_000, '1,100 subscriptions');
    // Every subscription is registered; one message makes them all live (start reads the latest seq first).
    const probe = (await users[0]!.http.data(SendMessageDocument, { roomId, body: 'probe' })).sendMessage.seq;
    void probe;
    const drain = async (marker: string) => {
      for (const ws of clients) {
        for (const id of [...Array.from({ length: 10 }, (_, i) => `s${i}`), 'mine']) {
          while (!(await ws.queue(id).take(10_000, `${id} ${marker}`)).includes(marker));
        }
      }
    };
    await users[0]!.http.data(SendMessageDocument, { roomId, body: 'settle' });
    await drain('settle');

    const before = { ...server.stats().counters };
    await users[1]!.http.data(SendMessageDocument, { roomId, body: 'counted' });
    await drain('counted');
    const after = server.stats().counters;
    assert.equal(after.events - before.events, 1);
    assert.equal(after.groupRenders - before.groupRenders, 1 + 10); // one shared group, ten per-viewer groups
    assert.equal(after.groupedDeliveries - before.groupedDeliveries, 1100);
    assert.equal(after.singleDeliveries - before.singleDeliveries, 0);
    for (const ws of clients) ws.close();
    await until(() => server.stats().subscriptions === 0, 10_000, 'subscriptions to end');
  });

  it('closes a consumer that stops reading while the others receive everything', async () => {
    const slow = new RawGraphQLWs(server.wsUrl);
    sockets.push(slow);
    await slow.init({ authorization: `Bearer ${users[2]!.token}` });
    slow.subscribe('slow', MESSAGES(roomId));
    const healthy = connectWs(server.wsUrl, { authorization: `Bearer ${users[3]!.token}` });
    const sub = healthy.subscribe(MessageAddedDocument, { roomId });
    await until(() => server.stats().subscriptions === 2, 10_000, 'two subscriptions');
    await users[0]!.http.data(SendMessageDocument, { roomId, body: 'warm-up' });
    while ((await sub.results.take()).data?.messageAdded.body !== 'warm-up');
    await slow.queue('slow').take();
    // The slow client stops reading from its TCP socket: the kernel buffers fill, then the server's.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();

    const body = 'x'.repeat(90_000);
    const count = 80; // 7 MB, more than loopback's kernel buffers hold
    const dropsBefore = server.stats().counters.slowConsumersDropped;
    for (let i = 0; i < count; i++) await users[0]!.http.data(SendMessageDocument, { roomId, body: `${i} ${body}` });
    const received = await sub.results.takeMany(count, 30_000, 'messages for the healthy subscriber');
    assert.deepEqual(received.map((r) => Number(r.data!.messageAdded.body.split(' ')[0])), Array.from({ length: count }, (_, i) => i));
    assert.equal(server.stats().counters.slowConsumersDropped - dropsBefore, 1);
    (slow.socket as unknown as { _socket: { resume(): void } })._socket.resume();
    const closed = await slow.closed;
    // 1013 when the close frame gets through, 1006 when the server had to cut a socket that still read nothing.
    assert.ok([SLOW_CONSUMER_CLOSE_CODE, 1006].includes(closed.code), `closed with ${closed.code}`);
    await healthy.dispose();
  });

  it('leaves no growth after subscriptions open and close (rounds of 5,000; 15,000 measured): empty indexes, heap back near the baseline', async () => {
    const perRound = 5000;
    /** Opens 5,000 subscriptions on 50 sockets, delivers to them, ends half by `complete` and half by closing the socket. */
    const round = async (name: string, whileOpen?: () => Promise<void>) => {
      const clients: RawGraphQLWs[] = [];
      for (let s = 0; s < 50; s++) {
        const ws = new RawGraphQLWs(server.wsUrl);
        clients.push(ws);
        await ws.init({ authorization: `Bearer ${users[s % 10]!.token}` });
        for (let i = 0; i < 100; i++) ws.subscribe(`${name}-${i}`, MESSAGES(roomId));
      }
      await until(() => server.stats().subscriptions === perRound, 30_000, '5,000 subscriptions');
      await users[0]!.http.data(SendMessageDocument, { roomId, body: `round ${name}` });
      for (const ws of clients) for (let i = 0; i < 100; i += 33) while (!(await ws.queue(`${name}-${i}`).take(10_000)).includes(`round ${name}`));
      await whileOpen?.();
      for (const [index, ws] of clients.entries()) {
        if (index % 2 === 0) for (let i = 0; i < 100; i++) ws.complete(`${name}-${i}`);
        else ws.close();
      }
      await until(() => server.stats().subscriptions === 0, 30_000, 'every subscription to end');
      for (const ws of clients) ws.close();
      await Promise.all(clients.map((ws) => ws.closed));
      await until(() => server.stats().sockets === 0, 10_000, 'every socket to close');
      assert.equal(server.stats().subscribedRooms, 0, 'no room left in the fan-out index');
    };

    await until(() => server.stats().subscriptions === 0, 10_000, 'a quiet server');
    // Two rounds warm up (JIT, caches, the database pool's buffers); every heap reading is taken between rounds,
    // when this test holds no client either.
    for (const name of ['w0', 'w1']) await round(name);
    const baseline = await settledHeapUsed();
    let open = 0;
    await round('m0', async () => {
      open = await settledHeapUsed();
    });
    for (const name of ['m1', 'm2']) await round(name);
    const growth = (await settledHeapUsed()) - baseline;

    // What one open subscription holds (server and this test's client together, sockets included): a leak of the
    // structures behind a subscription (its delivery, its stream, its fan-out subscriber) keeps nearly all of it.
    // A twentieth of it per measured subscription is about 4 MB in all: ten times the readings' noise (a few
    // hundred KB between rounds) and a twentieth of such a leak.
    const perSubscription = (open - baseline) / perRound;
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
    assert.ok(perSubscription > 1024, `an open subscription holds ${kib(perSubscription)}: too little to measure growth against`);
    const measured = 3 * perRound;
    assert.ok(
      growth < (measured * perSubscription) / 20,
      `heap grew by ${kib(growth)} after ${measured} subscriptions (${(growth / measured).toFixed(0)} B each; an open one holds ${kib(perSubscription)})`,
    );
  });
});
