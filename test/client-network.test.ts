import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { SendMessageDocument } from './__generated__/graphql.js';
import { closeVerdict, ParleyAuthError, ParleyProtocolError, type ParleyClient, type PendingSend, type RoomEvent } from '../src/client/index.js';
import { Recorder, roomHistory, seqsOf, statusLog, testClient, within } from './helpers/client-sdk.js';
import { FakeNetwork } from './helpers/fake-network.js';
import { createRoom, roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** Records, in one timeline, every pendingSends change (`pending <bodies>`) and every settled send. */
function timeline(client: ParleyClient) {
  const log = new Recorder<string>();
  client.onPendingSends((pending) => log.push(`pending [${pending.map((p) => p.body).join(',')}]`));
  const track = (body: string, sent: Promise<{ body: string }>) =>
    sent.then(
      (message) => {
        log.push(`resolved ${message.body} while pending [${client.pendingSends.map((p) => p.body).join(',')}]`);
        return message;
      },
      (error: unknown) => {
        log.push(`rejected ${body} while pending [${client.pendingSends.map((p) => p.body).join(',')}]`);
        throw error;
      },
    );
  return { log, track };
}

describe('SDK outbox, network awareness and close codes', () => {
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
    server = await startTestServer();
    proxy = await TcpProxy.start(Number(new URL(server.url).port));
    [alice, bob] = [await signUp(server), await signUp(server)];
  });
  after(async () => {
    for (const made of clients) await made.close();
    await proxy.close();
    await server.stop();
  });

  it('a send leaves pendingSends before its promise settles, and onPendingSends sees it added then removed', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const forbidden = await createRoom(bob, 'PRIVATE');
    const sender = client(alice.token);
    await statusLog(sender).until((s) => s.at(-1) === 'connected', 5_000, 'connected');
    const { log, track } = timeline(sender);
    await within(track('hello', sender.sendMessage({ roomId: room.id, body: 'hello' })), 5_000, 'the send');
    assert.deepEqual(log.items, ['pending [hello]', 'pending []', 'resolved hello while pending []']);

    log.items.length = 0;
    await within(track('refused', sender.sendMessage({ roomId: forbidden.id, body: 'refused' })).catch(() => {}), 5_000, 'the rejection');
    assert.deepEqual(log.items, ['pending [refused]', 'pending []', 'rejected refused while pending []']);
  });

  it('sends queued while the network is cut: listed in order, each removed before it resolves, after the restore', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const sender = client(alice.token);
    const statuses = statusLog(sender);
    await statuses.until((s) => s.at(-1) === 'connected', 5_000, 'connected');
    const { log, track } = timeline(sender);
    const lists = new Recorder<readonly PendingSend[]>();
    sender.onPendingSends(lists.push);
    proxy.cut();
    const bodies = [0, 1, 2, 3, 4].map((i) => `cut ${i}`);
    const sends = bodies.map((body) => track(body, sender.sendMessage({ roomId: room.id, body })));
    assert.deepEqual(sender.pendingSends.map((p) => p.body), bodies);
    proxy.restore();
    await within(Promise.all(sends), 10_000, 'the five sends');
    // The listener saw each add, then each removal, oldest first; a list is never stale.
    const expected = [...bodies.map((_, i) => bodies.slice(0, i + 1)), ...bodies.map((_, i) => bodies.slice(i + 1))];
    assert.deepEqual(lists.items.map((list) => list.map((p) => p.body)), expected);
    for (const [i, body] of bodies.entries()) {
      const removed = log.items.indexOf(`pending [${bodies.slice(i + 1).join(',')}]`);
      const resolved = log.items.findIndex((entry) => entry.startsWith(`resolved ${body} `));
      assert.ok(removed !== -1 && removed < resolved, `${body}: removed (${removed}) before resolved (${resolved}): ${log.items.join(' | ')}`);
      assert.ok(!log.items[resolved]!.includes(`${body},`) && !log.items[resolved]!.endsWith(`${body}]`), `${body} not pending when resolved`);
    }
    assert.deepEqual((await roomHistory(bob.http, room.id)).map((m) => m.body), bodies);
  });

  it('offline drops the socket at once and attempts nothing until online; then followers resume and held sends go out once each', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const network = new FakeNetwork();
    // Pings far apart: only the network event can notice the drop. Short backoff: a reconnect loop would show.
    const follower = client(alice.token, { network, keepAliveMs: 60_000, pongTimeoutMs: 60_000, backoff: { initialDelayMs: 20, maxDelayMs: 50 } });
    const events = new Recorder<RoomEvent>();
    await within(follower.roomEvents(room.id, { onEvent: events.push }).ready, 5_000, 'the stream start');
    await bob.http.data(SendMessageDocument, { roomId: room.id, body: 'before' });
    await events.until((e) => e.length === 1, 5_000, 'the first message');
    const statuses = statusLog(follower);
    assert.equal(network.listenerCount, 1);

    network.set(false);
    assert.equal(follower.status, 'offline', 'offline at once');
    const accepted = proxy.connectionsAccepted;
    for (let i = 0; i < 3; i++) await bob.http.data(SendMessageDocument, { roomId: room.id, body: `while offline ${i}` });
    const held = [0, 1].map((i) => follower.sendMessage({ roomId: room.id, body: `typed offline ${i}` }));
    // An observation window of 10+ backoff waits (not a synchronization): nothing may be attempted in it.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(proxy.connectionsAccepted, accepted, 'no socket or HTTP attempt while offline');
    assert.deepEqual(statuses.items.slice(1), ['offline'], 'no reconnecting while offline');
    assert.equal(follower.pendingSends.length, 2);

    network.set(true);
    await statuses.until((s) => s.at(-1) === 'connected', 5_000, 'connected again');
    await within(Promise.all(held), 5_000, 'the sends typed offline');
    const history = await roomHistory(bob.http, room.id);
    await events.until((e) => seqsOf(e).at(-1) === history.at(-1)!.seq, 5_000, 'the last message');
    assert.deepEqual(seqsOf(events.items), history.map((m) => m.seq), 'every event once, in order');
    assert.deepEqual(
      history.map((m) => m.body),
      ['before', 'while offline 0', 'while offline 1', 'while offline 2', 'typed offline 0', 'typed offline 1'],
    );

    await follower.close();
    assert.equal(network.listenerCount, 0, 'close() removes the network listener');
  });

  it('online after a drop reconnects at once instead of waiting out the backoff', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const network = new FakeNetwork();
    // Every backoff wait is 30 to 60 s: connecting within seconds can only come from the online event.
    const follower = client(alice.token, { network, backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    const events = new Recorder<RoomEvent>();
    await within(follower.roomEvents(room.id, { onEvent: events.push }).ready, 5_000, 'the stream start');
    const statuses = statusLog(follower);
    await statuses.until((s) => s.at(-1) === 'connected', 5_000, 'connected');
    proxy.cut(); // the network drops before the device notices
    await statuses.until((s) => s.at(-1) === 'offline', 5_000, 'the drop noticed');
    await bob.http.data(SendMessageDocument, { roomId: room.id, body: 'during the drop' });
    proxy.restore();
    network.set(false);
    network.set(true);
    await statuses.until((s) => s.at(-1) === 'connected', 5_000, 'connected again, well before any backoff wait ends');
    await bob.http.data(SendMessageDocument, { roomId: room.id, body: 'after' });
    const history = await roomHistory(bob.http, room.id);
    await events.until((e) => e.length === 2, 5_000, 'both messages');
    assert.deepEqual(seqsOf(events.items), history.map((m) => m.seq));
  });

  it('a protocol close (4400 from the real server) closes the client with a ParleyProtocolError and no reconnect', async () => {
    const sockets: WebSocket[] = [];
    const Tracked = class extends WebSocket {
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        sockets.push(this);
      }
    };
    const errors = new Recorder<unknown>();
    const victim = client(alice.token, { webSocketImpl: Tracked, onError: errors.push });
    const statuses = statusLog(victim);
    await statuses.until((s) => s.at(-1) === 'connected', 5_000, 'connected');
    const accepted = proxy.connectionsAccepted;
    sockets.at(-1)!.send('not a graphql-ws message'); // what a client bug would send
    await errors.until((e) => e.length === 1, 5_000, 'the error');
    const error = errors.items[0];
    assert.ok(error instanceof ParleyProtocolError, String(error));
    assert.ok(!(error instanceof ParleyAuthError), 'not reported as a sign-in problem');
    assert.equal(error.closeCode, 4400);
    assert.equal(error.reason, 'Invalid message received');
    assert.equal(victim.status, 'closed');
    assert.equal(proxy.connectionsAccepted, accepted, 'no reconnect attempt');
  });

  it('close codes: which stop reconnecting and which retry', () => {
    const verdicts = Object.fromEntries([1000, 1001, 1006, 1008, 1009, 1012, 1013, 4400, 4401, 4403, 4406, 4408, 4409, 4429, 4499, 4500].map((code) => [code, closeVerdict(code)]));
    assert.deepEqual(verdicts, {
      1000: 'reconnect',
      1001: 'reconnect',
      1006: 'reconnect',
      1008: 'reconnect-slower',
      1009: 'reconnect-slower',
      1012: 'reconnect',
      1013: 'reconnect',
      4400: 'protocol',
      4401: 'protocol',
      4403: 'token',
      4406: 'protocol',
      4408: 'reconnect',
      4409: 'protocol',
      4429: 'protocol',
      4499: 'reconnect',
      4500: 'reconnect-slower',
    });
  });
});
