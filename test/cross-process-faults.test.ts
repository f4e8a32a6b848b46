// The bus between processes under faults of the engines it rides on: Redis restarted (BUS=redis) and PostgreSQL
// restarted (BUS=postgres), each on a server of the test's own. Hints lost meanwhile are healed from the logs.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SendMessageDocument } from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes, HttpClient } from './helpers/http-client.js';
import { startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres.js';
import { startPrivateRedis } from './helpers/private-redis.js';
import { startProcessGroup, type ProcessGroup } from './helpers/process-group.js';
import { followRoom, waitUntilAllLive, type EventFollower } from './helpers/room-events.js';
import type { TestServer } from './helpers/test-server.js';

/** Reads the follower's message events up to seq `last`: each seq once, in order, none missing. */
async function seqsUntil(follower: EventFollower, last: number, timeoutMs: number): Promise<number[]> {
  const seqs: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while ((seqs.at(-1) ?? 0) < last) {
    const event = await follower.next(Math.max(1, deadline - Date.now()));
    if (event.__typename !== 'MessageAdded') continue;
    if (seqs.length > 0) assert.equal(event.seq, seqs.at(-1)! + 1, `gap or duplicate after ${seqs.at(-1)}`);
    seqs.push(event.seq!);
  }
  return seqs;
}

const send = async (server: TestServer, user: TestUser, roomId: string, body: string) =>
  new HttpClient(server.url, user.token).request(SendMessageDocument, { roomId, body });

describe('the bus under faults', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it('BUS=redis: a Redis restart loses no event; what was sent meanwhile is healed once Redis is back', async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.kill());
    const group: ProcessGroup = await startProcessGroup();
    cleanups.push(() => group.stop());
    const env = { BUS: 'redis', REDIS_URL: redis.url, BUS_CHECK_INTERVAL: '1h', RATE_LIMITS: 'off' };
    const a = await group.start(env);
    const b = await group.start(env);
    const alice = await signUp(a);
    const bob = await signUp(a);
    const room = await roomWithMembers(alice, [bob]);
    const onB = followRoom(b.wsUrl, bob, room.id);
    cleanups.push(() => onB.ws.dispose());
    const start = await waitUntilAllLive([onB], alice, room.id);

    await redis.kill();
    // Stored through A while Redis is down: acknowledged, but no hint reaches B.
    const during: number[] = [];
    for (let i = 0; i < 5; i++) during.push(dataSeq(await send(a, alice, room.id, `during ${i}`)));
    const backAt = Date.now();
    await redis.start();
    const after = dataSeq(await send(a, alice, room.id, 'after'));
    const seqs = await seqsUntil(onB, after, 10_000);
    assert.deepEqual(seqs, [...during, after]);
    assert.equal(seqs[0], start + 1);
    assert.ok(Date.now() - backAt < 5000, `recovered ${Date.now() - backAt} ms after Redis came back`);
  });

  it('BUS=postgres: during a PostgreSQL restart sends fail fast with a code; afterwards delivery across processes resumes by itself', async () => {
    const postgres: PrivatePostgres = await startPrivatePostgres();
    cleanups.push(() => postgres.destroy());
    const previous = process.env['DATABASE_URL'];
    process.env['DATABASE_URL'] = postgres.url; // the group's database lives on the private server
    let group: ProcessGroup;
    try {
      group = await startProcessGroup();
    } finally {
      process.env['DATABASE_URL'] = previous;
    }
    cleanups.push(() => group.stop());
    const env = { BUS: 'postgres', BUS_CHECK_INTERVAL: '1h', RATE_LIMITS: 'off' };
    const a = await group.start(env);
    const b = await group.start(env);
    const alice = await signUp(a);
    const bob = await signUp(a);
    const room = await roomWithMembers(alice, [bob]);
    const onB = followRoom(b.wsUrl, bob, room.id);
    cleanups.push(() => onB.ws.dispose());
    await waitUntilAllLive([onB], alice, room.id);

    await postgres.stop('fast');
    const downAt = Date.now();
    const failedAt = Date.now();
    const refused = await send(a, alice, room.id, 'while down');
    assert.ok(Date.now() - failedAt < 5000, 'the send failed fast');
    assert.deepEqual(errorCodes(refused), ['SERVICE_UNAVAILABLE']);
    const ready = await fetch(b.url.replace(/\/graphql$/, '/readyz'));
    assert.equal(ready.status, 503);

    // Down long enough for the bus to fail several reconnection attempts (its backoff starts at 50 ms).
    while (Date.now() - downAt < 1500) await new Promise((resolve) => setTimeout(resolve, 100)); // the outage's length
    await postgres.start();
    const backAt = Date.now();
    // The first sends after the restart may still meet a dead pooled connection: retried as a client would.
    let sent: number | undefined;
    while (sent === undefined && Date.now() - backAt < 10_000) {
      const result = await send(a, alice, room.id, 'after');
      if (result.data) sent = result.data.sendMessage.seq;
      else assert.deepEqual(errorCodes(result), ['SERVICE_UNAVAILABLE']);
    }
    assert.ok(sent !== undefined, 'sends work again');
    const seqs = await seqsUntil(onB, sent, 10_000);
    assert.equal(seqs.at(-1), sent);
    assert.ok(Date.now() - backAt < 5000, `delivered across processes ${Date.now() - backAt} ms after PostgreSQL came back`);
    for (const server of [a, b]) {
      const deadline = Date.now() + 5000;
      while ((await fetch(server.url.replace(/\/graphql$/, '/readyz'))).status !== 200) {
        assert.ok(Date.now() < deadline, 'ready again within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 50)); // polls the readiness endpoint
      }
    }
    // Failed attempts leave nothing behind: one listening connection per process, not one per attempt.
    const listeners = await a.sql<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'parley-bus-listen'");
    assert.equal(listeners[0]!.n, 2);
  });
});

function dataSeq(result: { data?: { sendMessage: { seq: number } } | null; errors?: unknown }): number {
  if (!result.data) throw new Error(`send failed: ${JSON.stringify(result.errors)}`);
  return result.data.sendMessage.seq;
}
