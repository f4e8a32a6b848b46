import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseCode } from 'graphql-ws';
import {
  CreateRoomDocument,
  MeDocument,
  MessageAddedDocument,
  SendMessageDocument,
  type MessageAddedSubscription,
} from './__generated__/graphql.js';
import { createRoom, roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { connectWs, waitUntilLive, type TestWsClient } from './helpers/ws-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('live delivery over graphql-ws', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  const clients: TestWsClient[] = [];
  const connect = (params?: Record<string, unknown>) => {
    const client = connectWs(server.wsUrl, params);
    clients.push(client);
    return client;
  };
  const bearer = (user: TestUser) => ({ authorization: `Bearer ${user.token}` });

  before(async () => {
    server = await startTestServer();
    alice = await signUp(server);
    bob = await signUp(server);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.stop();
  });

  it('delivers every new message of the room to a subscriber, once each, in seq order', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const ws = connect(bearer(bob));
    await ws.connected;
    const sub = ws.subscribe(MessageAddedDocument, { roomId: room.id });
    const sentSeqs: number[] = [];
    const send = async () => {
      const { sendMessage } = await alice.http.data(SendMessageDocument, { roomId: room.id, body: `m${sentSeqs.length + 1}` });
      sentSeqs.push(sendMessage.seq);
    };
    const firstSeq = (await waitUntilLive(sub.results, send)).seq;
    while (sentSeqs.length < 30) await send();
    const expected = sentSeqs.filter((seq) => seq > firstSeq);
    const received = (await sub.results.takeMany(expected.length, 10_000, 'messages')).map((r) => r.data!.messageAdded);
    assert.deepEqual(received.map((m) => m.seq), expected);
    const last = received.at(-1)!;
    assert.equal(last.body, 'm30');
    assert.equal(last.author.username, alice.username);
    assert.equal(last.room.id, room.id);
    assert.equal(last.room.lastSeq, sentSeqs.at(-1)); // loaded for this event, not cached from an earlier one
    assert.equal(sub.results.size, 0);
  });

  it('delivers nothing from other rooms', async () => {
    const watched = await createRoom(alice);
    const noisy = await createRoom(alice);
    const ws = connect(bearer(alice));
    const sub = ws.subscribe(MessageAddedDocument, { roomId: watched.id });
    await waitUntilLive(sub.results, () => alice.http.data(SendMessageDocument, { roomId: watched.id, body: 'probe' }));
    for (let i = 0; i < 5; i++) await alice.http.data(SendMessageDocument, { roomId: noisy.id, body: `noise ${i}` });
    await alice.http.data(SendMessageDocument, { roomId: watched.id, body: 'signal' });
    // Messages of one room reach its subscribers in order, so the signal arriving first proves the noise never came.
    const got = await sub.results.take(5000, 'the signal');
    assert.equal(got.data!.messageAdded.body, 'signal');
    assert.equal(sub.results.size, 0);
  });

  it('authenticates with the Hasura-style headers payload too', async () => {
    const ws = connect({ headers: { Authorization: `Bearer ${alice.token}` } });
    const me = ws.subscribe(MeDocument, {});
    const result = await me.results.take();
    assert.equal(result.data!.me.id, alice.id);
    assert.deepEqual(await me.ended, { kind: 'complete' });
  });

  it('closes the socket with 4403 for an invalid token or a malformed authorization value', async () => {
    for (const params of [{ authorization: 'Bearer not.a.token' }, { authorization: 'Basic abc' }, { headers: { Authorization: 'Bearer x' } }]) {
      const ws = connect(params);
      const closed = await ws.closed;
      assert.equal(closed.code, CloseCode.Forbidden);
      assert.equal(closed.code, 4403);
    }
  });

  it('accepts an anonymous socket but answers its operations with UNAUTHENTICATED', async () => {
    const ws = connect();
    await ws.connected;
    const me = ws.subscribe(MeDocument, {});
    const result = await me.results.take();
    assert.deepEqual(result.errors?.map((e) => e.extensions?.['code']), ['UNAUTHENTICATED']);
    const sub = ws.subscribe(MessageAddedDocument, { roomId: (await createRoom(alice)).id });
    const denied = await sub.results.take();
    assert.deepEqual(denied.errors?.map((e) => e.extensions?.['code']), ['UNAUTHENTICATED']);
    assert.deepEqual(await sub.ended, { kind: 'complete' });
  });

  it('denies a subscription to a room the viewer has not joined, and the socket and its other subscriptions carry on', async () => {
    const mine = await createRoom(bob);
    const alicesPublic = await createRoom(alice);
    const alicesPrivate = await createRoom(alice, 'PRIVATE');
    const ws = connect(bearer(bob));
    const live = ws.subscribe(MessageAddedDocument, { roomId: mine.id });
    const forbidden = ws.subscribe(MessageAddedDocument, { roomId: alicesPublic.id });
    const hidden = ws.subscribe(MessageAddedDocument, { roomId: alicesPrivate.id });
    for (const [sub, code, message] of [
      [forbidden, 'FORBIDDEN', 'You are not a member of this room'],
      [hidden, 'NOT_FOUND', 'Room not found'],
    ] as const) {
      const result = await sub.results.take();
      assert.equal(result.data ?? null, null);
      assert.deepEqual(result.errors?.map((e) => [e.extensions?.['code'], e.message]), [[code, message]]);
      assert.deepEqual(await sub.ended, { kind: 'complete' });
    }
    await waitUntilLive(live.results, () => bob.http.data(SendMessageDocument, { roomId: mine.id, body: 'still here' }));
    // And the socket takes new operations.
    const me = ws.subscribe(MeDocument, {});
    assert.equal((await me.results.take()).data!.me.id, bob.id);
  });

  it('runs queries and mutations over the socket with the connection’s user', async () => {
    const ws = connect(bearer(alice));
    const created = ws.subscribe(CreateRoomDocument, { name: 'made over ws' });
    const result = await created.results.take();
    assert.equal(result.data!.createRoom.name, 'made over ws');
  });

  it('reports validation errors for one operation with GRAPHQL_VALIDATION_FAILED and keeps the socket open', async () => {
    const ws = connect(bearer(alice));
    await ws.connected;
    const errors = await new Promise<readonly unknown[]>((resolve) => {
      ws.client.subscribe({ query: 'subscription { messageAdded(roomId: "x") { nope } }' }, {
        next: () => {},
        error: (e) => resolve(e as unknown[]),
        complete: () => {},
      });
    });
    assert.deepEqual((errors as { extensions?: { code?: string } }[]).map((e) => e.extensions?.code), ['GRAPHQL_VALIDATION_FAILED']);
    const me = ws.subscribe(MeDocument, {});
    assert.equal((await me.results.take()).data!.me.id, alice.id);
  });

  it('gives each subscription of a socket its own stream: two rooms on one socket', async () => {
    const first = await createRoom(alice);
    const second = await createRoom(alice);
    const ws = connect(bearer(alice));
    const a = ws.subscribe(MessageAddedDocument, { roomId: first.id });
    const b = ws.subscribe(MessageAddedDocument, { roomId: second.id });
    await waitUntilLive(a.results, () => alice.http.data(SendMessageDocument, { roomId: first.id, body: 'probe' }));
    await waitUntilLive(b.results, () => alice.http.data(SendMessageDocument, { roomId: second.id, body: 'probe' }));
    await alice.http.data(SendMessageDocument, { roomId: first.id, body: 'to first' });
    await alice.http.data(SendMessageDocument, { roomId: second.id, body: 'to second' });
    const pick = (r: { data?: MessageAddedSubscription | null }) => r.data!.messageAdded.body;
    assert.equal(pick(await a.results.take()), 'to first');
    assert.equal(pick(await b.results.take()), 'to second');
  });
});
