import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MessageAddedDocument, SendMessageDocument, type MessageAddedSubscription } from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { connectWs, waitUntilLive, type TestWsClient } from './helpers/ws-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

type Received = MessageAddedSubscription['messageAdded'];

describe('resuming a subscription from a cursor', () => {
  let server: TestServer;
  let owner: TestUser;
  let senders: TestUser[];
  let reader: TestUser;
  const clients: TestWsClient[] = [];
  const connect = () => {
    const client = connectWs(server.wsUrl, { authorization: `Bearer ${reader.token}` });
    clients.push(client);
    return client;
  };

  before(async () => {
    server = await startTestServer();
    owner = await signUp(server);
    senders = [owner, await signUp(server), await signUp(server), await signUp(server)];
    reader = await signUp(server);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.stop();
  });

  it('replays what was missed and continues live: 4 senders × 50 while the subscriber drops twice, every seq once, in order', async () => {
    const room = await roomWithMembers(owner, [...senders.slice(1), reader]);
    let client = connect();
    let sub = client.subscribe(MessageAddedDocument, { roomId: room.id });
    const received: Received[] = [await waitUntilLive(sub.results, () => owner.http.data(SendMessageDocument, { roomId: room.id, body: 'probe' }))];
    const liveFrom = received[0]!.seq; // probes before it went out while the subscription was not live yet

    const sending = Promise.all(
      senders.map(async (sender, s) => {
        for (let i = 0; i < 50; i++) {
          await sender.http.data(SendMessageDocument, { roomId: room.id, body: `sender ${s} message ${i}`, clientMessageId: `${s}-${i}` });
        }
      }),
    );

    const dropAfter = new Set([40, 110]);
    let drops = 0;
    let finalSent = false;
    while (received.at(-1)!.body !== 'final') {
      const result = await sub.results.take(15_000, `message after seq ${received.at(-1)!.seq}`);
      assert.deepEqual(result.errors, undefined);
      received.push(result.data!.messageAdded);
      if (dropAfter.has(received.length)) {
        // The network drops: whatever was in flight is lost. The client resumes from the last message it processed.
        client.drop();
        await client.closed;
        drops++;
        client = connect();
        sub = client.subscribe(MessageAddedDocument, { roomId: room.id, after: received.at(-1)!.cursor });
      }
      if (!finalSent && received.length > Math.max(...dropAfter)) {
        // Once the drops are done, a last message after all the senders marks the end of the log.
        finalSent = true;
        void sending.then(() => owner.http.data(SendMessageDocument, { roomId: room.id, body: 'final' }));
      }
    }
    await sending;
    assert.equal(drops, 2);
    assert.equal(received.at(-1)!.body, 'final');

    const log = await server.sql<{ seq: number; body: string }>(
      'SELECT seq, body FROM messages WHERE room_id = $1 AND seq >= $2 ORDER BY seq',
      [room.id, liveFrom],
    );
    assert.equal(log.length, 202); // the live probe, 200 sent concurrently, and the final one
    assert.deepEqual(received.map((m) => m.seq), log.map((row) => row.seq));
    assert.deepEqual(received.map((m) => m.body), log.map((row) => row.body));
    assert.equal(sub.results.size, 0);
  });

  it('replays from a cursor on a fresh socket without a live message to trigger it', async () => {
    const room = await roomWithMembers(owner, [reader]);
    const sent = [];
    for (let i = 1; i <= 5; i++) sent.push((await owner.http.data(SendMessageDocument, { roomId: room.id, body: `old ${i}` })).sendMessage);
    const client = connect();
    const sub = client.subscribe(MessageAddedDocument, { roomId: room.id, after: sent[1]!.cursor });
    const replayed = await sub.results.takeMany(3);
    assert.deepEqual(replayed.map((r) => r.data!.messageAdded.body), ['old 3', 'old 4', 'old 5']);
    await owner.http.data(SendMessageDocument, { roomId: room.id, body: 'new' });
    assert.equal((await sub.results.take()).data!.messageAdded.seq, sent.at(-1)!.seq + 1);
  });

  it('replays more than one storage page (450 messages) in order before going live', async () => {
    const room = await roomWithMembers(owner, [reader]);
    const first = (await owner.http.data(SendMessageDocument, { roomId: room.id, body: 'start' })).sendMessage;
    for (let i = 0; i < 450; i++) await owner.http.data(SendMessageDocument, { roomId: room.id, body: `backlog ${i}` });
    const client = connect();
    const sub = client.subscribe(MessageAddedDocument, { roomId: room.id, after: first.cursor });
    const replayed = await sub.results.takeMany(450, 20_000);
    assert.deepEqual(replayed.map((r) => r.data!.messageAdded.seq), Array.from({ length: 450 }, (_, i) => first.seq + 1 + i));
  });

  it('refuses a malformed cursor for that subscription only', async () => {
    const room = await roomWithMembers(owner, [reader]);
    const client = connect();
    const sub = client.subscribe(MessageAddedDocument, { roomId: room.id, after: 'not-a-cursor' });
    const result = await sub.results.take();
    assert.deepEqual(result.errors?.map((e) => [e.extensions?.['code'], e.message]), [['BAD_USER_INPUT', 'after is not a valid cursor']]);
  });
});
