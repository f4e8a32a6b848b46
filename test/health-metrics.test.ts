// GET /healthz, /readyz and /metrics, and the graceful drain SIGTERM starts (app.drain()).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { startApp, type RunningApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { MessageAddedDocument, SendMessageDocument } from './__generated__/graphql.js';
import { roomWithMembers, signUp } from './helpers/fixtures.js';
import { startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres.js';
import { waitForLockWaiters } from './helpers/lock-waiters.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { connectWs, waitUntilLive, type TestWsClient } from './helpers/ws-client.js';

const METRICS_TOKEN = 'metrics-token-of-this-test';
const origin = (server: { url: string }) => new URL(server.url).origin;

/** The value of one sample line (`name{labels} value`) of a Prometheus text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('health and metrics', () => {
  let server: TestServer;
  const clients: TestWsClient[] = [];
  before(async () => (server = await startTestServer({ METRICS_TOKEN })));
  after(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.stop();
  });

  it('/healthz and /readyz answer 200, without the API\'s security policy', async () => {
    const health = await fetch(`${origin(server)}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal(health.headers.get('content-security-policy'), null);
    const ready = await fetch(`${origin(server)}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
  });

  it('/metrics needs METRICS_TOKEN', async () => {
    assert.equal((await fetch(`${origin(server)}/metrics`)).status, 401);
    assert.equal((await fetch(`${origin(server)}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(`${origin(server)}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 200);
  });

  it('/metrics shows sockets, subscriptions, deliveries, latencies and the pool after a send to a subscriber', async () => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const room = await roomWithMembers(alice, [bob]);
    const ws = connectWs(server.wsUrl, { authorization: `Bearer ${bob.token}` });
    clients.push(ws);
    await ws.connected;
    const sub = ws.subscribe(MessageAddedDocument, { roomId: room.id });
    await waitUntilLive(sub.results, () => alice.http.data(SendMessageDocument, { roomId: room.id, body: 'hello' }));

    const response = await fetch(`${origin(server)}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    // Every line is a comment or `series value`.
    for (const line of text.split('\n').filter(Boolean)) assert.match(line, /^(# (HELP|TYPE) \S+ .+|[a-zA-Z_:][\w:]*(\{[^}]*\})? -?[\d.e+-]+|[\w:]+(\{[^}]*\})? (NaN|[+-]Inf))$/, line);
    assert.equal(sample(text, 'parley_websocket_connections'), 1);
    assert.equal(sample(text, 'parley_subscriptions{kind="room"}'), 1);
    assert.equal(sample(text, 'parley_subscriptions{kind="inbox"}'), 0);
    assert.ok(sample(text, 'parley_fanout_events_total')! >= 1);
    assert.ok(sample(text, 'parley_fanout_deliveries_total')! >= 1);
    assert.ok(sample(text, 'parley_fanout_group_renders_total')! >= 1);
    assert.equal(sample(text, 'parley_slow_consumers_closed_total'), 0);
    assert.ok(sample(text, 'parley_send_duration_seconds_count{outcome="ok"}')! >= 1);
    assert.ok(sample(text, 'parley_http_request_duration_seconds_count{method="POST",status="2xx"}')! >= 4);
    assert.ok(sample(text, 'parley_db_pool_connections{state="idle"}')! >= 1);
    assert.equal(sample(text, 'parley_db_pool_connections{state="waiting"}'), 0);
    assert.ok(sample(text, 'parley_db_pool_connections{state="in_use"}')! >= 0);
    assert.ok(sample(text, 'process_resident_memory_bytes')! > 0);
    assert.ok(sample(text, 'nodejs_eventloop_lag_seconds')! >= 0);
  });
});

describe('graceful drain', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ DRAIN_DELAY: '300ms' })));
  after(() => server.stop());

  it('turns /readyz 503 at once, then closes sockets with 1012 and lets an in-flight request finish', async () => {
    const alice = await signUp(server);
    const room = await roomWithMembers(alice, []);
    const ws = connectWs(server.wsUrl, { authorization: `Bearer ${alice.token}` });
    await ws.connected;
    // An HTTP request held in flight by a lock this test holds.
    const locker = new pg.Client({ connectionString: server.databaseUrl });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
      const inFlight = alice.http.request(SendMessageDocument, { roomId: room.id, body: 'sent before the drain' });
      await waitForLockWaiters(server);

      const drained = server.drain();
      const ready = await fetch(`${origin(server)}/readyz`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { status: 'unavailable', reason: 'draining' });
      assert.equal((await fetch(`${origin(server)}/healthz`)).status, 200, 'alive while draining');

      const startedAt = Date.now();
      const closed = await ws.closed;
      assert.equal(closed.code, 1012);
      assert.match(closed.reason, /reconnect/);
      assert.ok(Date.now() - startedAt >= 200, 'sockets stay open for DRAIN_DELAY');

      await locker.query('COMMIT');
      const response = await inFlight;
      assert.equal(response.errors, undefined);
      assert.equal(response.data!.sendMessage.body, 'sent before the drain');
      await drained;
      await assert.rejects(fetch(`${origin(server)}/healthz`), 'no longer accepting');
    } finally {
      await locker.end();
    }
  });
});

describe('/readyz with the database down', () => {
  let postgres: PrivatePostgres;
  let app: RunningApp;
  before(async () => {
    postgres = await startPrivatePostgres();
    const config = loadConfig({ DATABASE_URL: postgres.url, PORT: '0', NODE_ENV: 'test', JWT_SECRET: randomBytes(32).toString('hex'), RATE_LIMITS: 'off' });
    app = await startApp(config, { logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'fatal' }) });
  });
  after(async () => {
    await app?.stop();
    await postgres?.destroy();
  });

  it('answers 503 naming the database while PostgreSQL is stopped, 200 again once it is back', async () => {
    assert.equal((await fetch(`${origin(app)}/readyz`)).status, 200);
    await postgres.stop('fast');
    const down = await fetch(`${origin(app)}/readyz`);
    assert.equal(down.status, 503);
    const body = (await down.json()) as { status: string; reason: string };
    assert.equal(body.status, 'unavailable');
    assert.match(body.reason, /^database unreachable/);
    assert.equal((await fetch(`${origin(app)}/healthz`)).status, 200);
    await postgres.start();
    // The pool drops its dead connections as they fail: poll with a deadline until it has a live one.
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && (status = (await fetch(`${origin(app)}/readyz`)).status) !== 200);
    assert.equal(status, 200);
  });
});
