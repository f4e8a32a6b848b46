// Faults behind the shipped nginx config (deploy/nginx/parley.conf): one of two Parley processes drains (SIGTERM)
// or dies (kill -9) while SDK clients send and follow a room through nginx. Whatever happens, every acknowledged
// message reaches every follower exactly once, in order, and the clients recover through nginx within 5 s.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { JoinRoomDocument, SignUpDocument } from './__generated__/graphql.js';
import type { ConnectionStatus, ParleyClient, RoomEvent } from '../src/client/index.js';
import { eventually, Recorder, roomHistory, testClient, within } from './helpers/client-sdk.js';
import { createRoom, PASSWORD, uniqueName, type TestUser } from './helpers/fixtures.js';
import { dataOf, HttpClient, postGraphQL } from './helpers/http-client.js';
import { killLeftovers, openSockets, spawnParley, startNginx, type ParleyProcess, type RunningNginx } from './helpers/nginx.js';
import type { ServerProcess } from './helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-server.js';

/** Recovery goal of issue 13: from the fault until every follower has a message sent after it. */
const RECOVERY_MS = 5_000;

async function signUpThrough(url: string): Promise<TestUser> {
  const { signUp } = dataOf(await postGraphQL(url, SignUpDocument, { username: uniqueName(), password: PASSWORD }));
  return { id: signUp.user.id, username: signUp.user.username, token: signUp.token, http: new HttpClient(url, signUp.token) };
}

/** When each message body was handed to `sendMessage`, by any sender of the test. */
const issuedAt = new Map<string, number>();

/** A message as a follower received it. */
interface Arrival {
  seq: number;
  body: string;
  at: number;
}

/** An SDK client following one room through nginx, recording what it receives and everything it reports. */
interface Follower {
  client: ParleyClient;
  arrivals: Recorder<Arrival>;
  /** Status changes with the time of each. */
  statuses: { status: ConnectionStatus; at: number }[];
  /** Client-wide and stream errors: anything here is visible to the app. */
  errors: unknown[];
}

async function follow(url: string, user: TestUser, roomId: string): Promise<Follower> {
  const errors: unknown[] = [];
  const client = testClient(url, user.token, { onError: (error) => errors.push(error) });
  const arrivals = new Recorder<Arrival>();
  const onEvent = (event: RoomEvent) => {
    if (event.__typename === 'MessageAdded') arrivals.push({ seq: event.message.seq, body: event.message.body, at: Date.now() });
  };
  const stream = client.roomEvents(roomId, { onEvent, onError: (error) => errors.push(error) });
  await within(stream.ready, 15_000, 'a follower subscribing through nginx');
  const statuses = [{ status: client.status, at: Date.now() }];
  client.onStatus((status) => statuses.push({ status, at: Date.now() }));
  return { client, arrivals, statuses, errors };
}

/** A message whose send the server acknowledged. */
interface Acknowledged {
  seq: number;
  body: string;
}

/** An SDK client sending one message after another through its outbox until stopped. */
interface Sender {
  acknowledged: Recorder<Acknowledged>;
  /** Stops after the send in flight is acknowledged; rejects if any send was rejected. */
  stop(): Promise<void>;
}

function startSending(client: ParleyClient, roomId: string, prefix: string): Sender {
  const acknowledged = new Recorder<Acknowledged>();
  let stopping = false;
  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      const body = `${prefix}-${i}`;
      issuedAt.set(body, Date.now());
      const message = await client.sendMessage({ roomId, body });
      acknowledged.push({ seq: message.seq, body });
    }
  })();
  loop.catch(() => {}); // reported by stop()
  return {
    acknowledged,
    stop: () => ((stopping = true), within(loop, 20_000, `sender ${prefix} stopping`)),
  };
}

/** The first arrival at a follower of a message handed to the SDK after `since`. */
const firstSentAfter = (follower: Follower, since: number) => follower.arrivals.items.find((a) => (issuedAt.get(a.body) ?? 0) > since);

/**
 * For the test's report: the slowest follower's status changes and its first message sent after `since`, in ms
 * after the fault (`faultAt`).
 */
function slowestTimeline(followers: readonly Follower[], since: number, faultAt: number): string {
  const slowest = followers.reduce((a, b) => (firstSentAfter(a, since)!.at >= firstSentAfter(b, since)!.at ? a : b));
  const steps = slowest.statuses.filter((s) => s.at >= faultAt).map((s) => `${s.status} +${s.at - faultAt}`);
  return `slowest follower: ${[...steps, `message +${firstSentAfter(slowest, since)!.at - faultAt}`].join(', ')} ms`;
}

/** Of `processes`, the one with the most open WebSockets (so that the fault hits as many clients as possible). */
async function busiest(processes: readonly ParleyProcess[]): Promise<{ victim: ParleyProcess; sockets: number[] }> {
  const sockets = await Promise.all(processes.map(openSockets));
  const victim = processes[sockets.indexOf(Math.max(...sockets))]!;
  return { victim, sockets };
}

/**
 * The end state both faults must reach: the room's history holds exactly the acknowledged messages (none lost,
 * none stored twice by a retried send), and every follower received exactly those, in seq order, with no error.
 */
async function assertEveryAcknowledgedMessageOnceInOrder(
  http: HttpClient,
  roomId: string,
  acknowledgedMessages: readonly Acknowledged[],
  followers: readonly Follower[],
) {
  const acknowledged = [...acknowledgedMessages].sort((a, b) => a.seq - b.seq);
  const history = await roomHistory(http, roomId);
  assert.deepEqual(
    history.map((m) => [m.seq, m.body]),
    acknowledged.map((m) => [m.seq, m.body]),
    'the room holds each acknowledged message once',
  );
  const last = acknowledged.at(-1)!.seq;
  await Promise.all(followers.map((f, i) => f.arrivals.until((a) => a.some((x) => x.seq === last), 15_000, `follower ${i}: seq ${last}`)));
  followers.forEach((follower, i) => {
    assert.deepEqual(
      follower.arrivals.items.map((a) => [a.seq, a.body]),
      acknowledged.map((m) => [m.seq, m.body]),
      `follower ${i}: every acknowledged message once, in order`,
    );
    assert.deepEqual(follower.errors, [], `follower ${i}: no error reached the app`);
    const statuses = follower.statuses.map((s) => s.status);
    assert.ok(!statuses.includes('closed'), `follower ${i}: never closed (${statuses.join(' > ')})`);
  });
}

/** Two processes on one database behind nginx, users signed up through it, and one room they all joined. */
async function deployment(started: ServerProcess[], database: TestDatabase, users: number, env: Record<string, string> = {}) {
  const processes = await spawnParley(2, { DATABASE_URL: database.url, JWT_SECRET: randomBytes(32).toString('hex'), RATE_LIMITS: 'off', ...env }, started);
  const nginx = await startNginx(processes.map((p) => p.address));
  const members = await Promise.all(Array.from({ length: users }, () => signUpThrough(nginx.graphqlUrl)));
  const room = await createRoom(members[0]!);
  await Promise.all(members.slice(1).map((member) => member.http.data(JoinRoomDocument, { roomId: room.id })));
  return { processes, nginx, members, roomId: room.id };
}

/** Sends one message and waits until every follower has it: the room is live everywhere, across both processes. */
async function warmUp(sender: ParleyClient, roomId: string, followers: readonly Follower[]): Promise<Acknowledged> {
  const body = `warm-up-${randomBytes(3).toString('hex')}`;
  const { seq } = await sender.sendMessage({ roomId, body });
  await Promise.all(
    followers.map((f, i) =>
      f.arrivals.until((a) => a.some((x) => x.body === body), 15_000, `follower ${i}: the warm-up message (sent through one process, followed on either: the cross-process bus)`),
    ),
  );
  return { seq, body };
}

describe('SIGTERM to one of two processes behind nginx', () => {
  const started: ServerProcess[] = [];
  const clients: ParleyClient[] = [];
  let database: TestDatabase;
  let nginx: RunningNginx | undefined;
  before(async () => (database = await createTestDatabase()));
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await nginx?.stop();
    await killLeftovers(started);
    await database?.drop();
  });

  it('moves its followers to the other process through nginx: every acknowledged message once, in order, no error but the reconnect, within 5 s', async (t) => {
    const setup = await deployment(started, database, 7, { DRAIN_DELAY: '300ms' });
    nginx = setup.nginx;
    const [sending, ...following] = setup.members;
    const followers = await Promise.all(following.map((user) => follow(nginx!.graphqlUrl, user, setup.roomId)));
    clients.push(...followers.map((f) => f.client));
    const senderClient = testClient(nginx.graphqlUrl, sending!.token);
    clients.push(senderClient);
    const warmUpMessage = await warmUp(senderClient, setup.roomId, followers);

    const sender = startSending(senderClient, setup.roomId, 'drain');
    await sender.acknowledged.until((a) => a.length >= 5, 15_000, 'five messages before the drain');

    const { victim, sockets } = await busiest(setup.processes);
    const survivor = setup.processes.find((p) => p !== victim)!;
    assert.ok(Math.max(...sockets) > 0, `clients on the process to drain (${sockets.join(', ')})`);
    const signalledAt = Date.now();
    victim.server.child.kill('SIGTERM');

    // Draining: the process says so on its own /readyz, while the deployment stays ready through nginx.
    await eventually(() => fetch(`${victim.origin}/readyz`).then((r) => r.status), (status) => status === 503, 2_000, 'the process to report draining');
    for (let i = 0; i < 4; i++) assert.equal((await fetch(`${nginx.origin}/readyz`)).status, 200, `readyz through nginx while one process drains (${i})`);
    assert.deepEqual(await victim.server.waitForExit(10_000), { code: 0, signal: null }, 'the drained process exits cleanly');
    const stoppedAt = Date.now();

    await Promise.all(followers.map((f, i) => f.arrivals.until(() => firstSentAfter(f, stoppedAt) !== undefined, 10_000, `follower ${i}: a message sent after the drain`)));
    const recoveryMs = Math.max(...followers.map((f) => firstSentAfter(f, stoppedAt)!.at)) - signalledAt;
    const settled = sender.acknowledged.items.length;
    await sender.acknowledged.until((a) => a.length >= settled + 3, 15_000, 'three more messages');
    await sender.stop();

    const acknowledged = [warmUpMessage, ...sender.acknowledged.items];
    await assertEveryAcknowledgedMessageOnceInOrder(new HttpClient(nginx.graphqlUrl, sending!.token), setup.roomId, acknowledged, followers);
    const reconnected = followers.filter((f) => f.statuses.some((s) => s.status === 'reconnecting')).length;
    t.diagnostic(`sockets per process before SIGTERM: ${sockets.join(', ')}; followers that reconnected: ${reconnected}/${followers.length}; messages: ${acknowledged.length}; recovery: ${recoveryMs} ms; ${slowestTimeline(followers, stoppedAt, signalledAt)}`);
    assert.ok(reconnected >= 1, 'some followers were on the drained process and reconnected');
    assert.equal((await fetch(`${survivor.origin}/readyz`)).status, 200);
    assert.ok(recoveryMs < RECOVERY_MS, `recovered ${recoveryMs} ms after SIGTERM (DRAIN_DELAY 300 ms included)`);
  });
});

describe('kill -9 of one of two processes behind nginx while 4 senders run and 50 subscribers follow', () => {
  const started: ServerProcess[] = [];
  const clients: ParleyClient[] = [];
  let database: TestDatabase;
  let nginx: RunningNginx | undefined;
  before(async () => (database = await createTestDatabase()));
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await nginx?.stop();
    await killLeftovers(started);
    await database?.drop();
  });

  it('loses and doubles no acknowledged message, keeps the order for every subscriber, and recovers within 5 s', async (t) => {
    const setup = await deployment(started, database, 54);
    nginx = setup.nginx;
    const sendingUsers = setup.members.slice(0, 4);
    const followers = await Promise.all(setup.members.slice(4).map((user) => follow(nginx!.graphqlUrl, user, setup.roomId)));
    clients.push(...followers.map((f) => f.client));
    const senderClients = sendingUsers.map((user) => testClient(nginx!.graphqlUrl, user.token));
    clients.push(...senderClients);
    const warmUpMessage = await warmUp(senderClients[0]!, setup.roomId, followers);

    const senders = senderClients.map((client, i) => startSending(client, setup.roomId, `s${i}`));
    await Promise.all(senders.map((s, i) => s.acknowledged.until((a) => a.length >= 3, 15_000, `sender ${i}: three messages before the kill`)));

    const { victim, sockets } = await busiest(setup.processes);
    assert.ok(Math.max(...sockets) > 0, `clients on the process to kill (${sockets.join(', ')})`);
    const killedAt = Date.now();
    victim.server.child.kill('SIGKILL');

    await Promise.all(
      followers.map((f, i) => f.arrivals.until(() => firstSentAfter(f, killedAt) !== undefined, 15_000, `subscriber ${i}: a message sent after the kill`)),
    );
    const recoveryMs = Math.max(...followers.map((f) => firstSentAfter(f, killedAt)!.at)) - killedAt;
    assert.equal((await victim.server.waitForExit(5_000)).signal, 'SIGKILL');
    const counts = senders.map((s) => s.acknowledged.items.length);
    await Promise.all(senders.map((s, i) => s.acknowledged.until((a) => a.length >= counts[i]! + 3, 15_000, `sender ${i}: three more messages`)));
    await Promise.all(senders.map((s) => s.stop()));

    const acknowledged = [warmUpMessage, ...senders.flatMap((s) => s.acknowledged.items)];
    await assertEveryAcknowledgedMessageOnceInOrder(new HttpClient(nginx.graphqlUrl, sendingUsers[0]!.token), setup.roomId, acknowledged, followers);
    const reconnected = followers.filter((f) => f.statuses.some((s) => s.status === 'reconnecting')).length;
    t.diagnostic(`sockets per process before the kill: ${sockets.join(', ')}; subscribers that reconnected: ${reconnected}/${followers.length}; messages: ${acknowledged.length}; recovery: ${recoveryMs} ms; ${slowestTimeline(followers, killedAt, killedAt)}`);
    assert.ok(reconnected >= 1, 'some subscribers were on the killed process and reconnected');
    assert.ok(recoveryMs < RECOVERY_MS, `every subscriber had a message sent after the kill ${recoveryMs} ms after it`);
  });
});
