import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { SendMessageDocument, SignOutDocument } from './__generated__/graphql.js';
import { ParleyAuthError, ParleyGraphQLError, type ParleyClient, type RoomEvent } from '../src/client/index.js';
import { Recorder, eventually, roomHistory, statusLog, testClient, within } from './helpers/client-sdk.js';
import { createRoom, roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const SECRET = randomBytes(32).toString('hex');

describe('SDK sends and tokens', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let alice: TestUser;
  let bob: TestUser;
  const clients: ParleyClient[] = [];
  const client = (token: string, options: Parameters<typeof testClient>[2] = {}) => {
    const made = testClient(proxy.url, token, options);
    clients.push(made);
    return made;
  };
  before(async () => {
    server = await startTestServer({ JWT_SECRET: SECRET });
    proxy = await TcpProxy.start(Number(new URL(server.url).port));
    [alice, bob] = [await signUp(server), await signUp(server)];
  });
  after(async () => {
    for (const made of clients) await made.close();
    await proxy.close();
    await server.stop();
  });

  it('sends made while the network is cut wait in the outbox and are stored once each, in order, after it returns', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const sender = client(alice.token);
    await statusLog(sender).until((s) => s.at(-1) === 'connected', 5_000, 'connected');
    proxy.cut();
    const sends = [0, 1, 2, 3, 4].map((i) => sender.sendMessage({ roomId: room.id, body: `offline ${i}` }));
    assert.equal(sender.pendingSends.length, 5);
    proxy.restore();
    const stored = await within(Promise.all(sends), 10_000, 'the five sends');
    const history = await roomHistory(bob.http, room.id);
    assert.deepEqual(history.map((m) => m.body), [0, 1, 2, 3, 4].map((i) => `offline ${i}`));
    assert.deepEqual(stored.map((m) => m.id), history.map((m) => m.id));
    assert.equal(sender.pendingSends.length, 0);
  });

  it('a send whose acknowledgement was lost is retried with the same clientMessageId and stored once', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const sender = client(alice.token);
    await statusLog(sender).until((s) => s.at(-1) === 'connected', 5_000, 'connected');
    proxy.dropReplies();
    const sent = sender.sendMessage({ roomId: room.id, body: 'acknowledgement lost' });
    const [row] = await eventually(
      () => server.sql<{ id: string; client_message_id: string }>(`SELECT id, client_message_id FROM messages WHERE room_id = $1`, [room.id]),
      (rows) => rows.length === 1,
      5_000,
      'the message stored',
    );
    proxy.cut();
    proxy.restore();
    const message = await within(sent, 10_000, 'the send');
    assert.equal(message.id, row!.id);
    assert.equal(message.clientMessageId, row!.client_message_id);
    assert.equal((await roomHistory(bob.http, room.id)).length, 1, 'stored once');
  });

  it('a permanent error rejects the send at once, without retries', async () => {
    const room = await createRoom(bob, 'PRIVATE');
    const sender = client(alice.token);
    const error = await within(sender.sendMessage({ roomId: room.id, body: 'not a member' }).catch((e: unknown) => e), 5_000, 'the rejection');
    assert.ok(error instanceof ParleyGraphQLError);
    assert.ok(['FORBIDDEN', 'NOT_FOUND'].includes(error.code!), error.code);
    assert.equal(sender.pendingSends.length, 0);
    assert.equal((await server.sql(`SELECT 1 FROM messages WHERE room_id = $1`, [room.id])).length, 0);
  });

  it('refreshes the token before it expires and swaps it on the open socket: the subscription carries on past the old expiry', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const expiresAt = Math.floor(Date.now() / 1000) + 6;
    const shortLived = await new SignJWT({ ver: 0 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(alice.id)
      .setIssuer('parley')
      .setAudience('parley')
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(new TextEncoder().encode(SECRET));
    const refreshed = new Recorder<string>();
    const follower = client(shortLived, { tokenRefreshLeadMs: 4_000, onTokenRefreshed: (token) => refreshed.push(token) });
    const statuses = statusLog(follower);
    const events = new Recorder<RoomEvent>();
    await within(follower.roomEvents(room.id, { onEvent: events.push }).ready, 5_000, 'the stream start');
    await refreshed.until((r) => r.length === 1, 6_000, 'a refreshed token');
    assert.notEqual(refreshed.items[0], shortLived);
    // Past the first token's expiry (the server would have closed the socket with 4403 "Token expired").
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt * 1000 - Date.now() + 500)));
    await bob.http.data(SendMessageDocument, { roomId: room.id, body: 'after the old expiry' });
    await events.until((e) => e.length === 1, 5_000, 'the message');
    assert.deepEqual(statuses.items.filter((s) => s !== 'connecting'), ['connected'], 'one socket throughout');
  });

  it('a 4403 close (signed out elsewhere) stops reconnecting and reports an authentication error', async () => {
    const carol = await signUp(server);
    const room = await createRoom(carol);
    const errors = new Recorder<unknown>();
    const victim = client(carol.token, { onError: errors.push });
    const statuses = statusLog(victim);
    await within(victim.roomEvents(room.id, { onEvent: () => {} }).ready, 5_000, 'the stream start');
    await statuses.until((s) => s.at(-1) === 'connected', 5_000, 'connected');
    const accepted = proxy.connectionsAccepted;
    await carol.http.data(SignOutDocument, {});
    await errors.until((e) => e.length === 1, 5_000, 'the auth error');
    const error = errors.items[0];
    assert.ok(error instanceof ParleyAuthError);
    assert.equal(error.closeCode, 4403);
    assert.equal(error.reason, 'Signed out');
    assert.equal(victim.status, 'closed');
    await assert.rejects(victim.sendMessage({ roomId: room.id, body: 'too late' }), { name: 'ParleyClientClosedError' });
    assert.equal(proxy.connectionsAccepted, accepted, 'no reconnect attempt');
  });
});
