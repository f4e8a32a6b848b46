import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../src/db/data-source.js';
import { systemClock, type Clock } from '../src/domain/clock.js';
import type { PresenceChange } from '../src/domain/presence.js';
import { PresenceService } from '../src/domain/presence.service.js';
import { PostgresPresenceState } from '../src/realtime/postgres-presence-state.js';
import { RedisPresenceState } from '../src/realtime/redis-presence-state.js';
import { SharedPresenceStore } from '../src/realtime/shared-presence-store.js';
import { SerializingStreamEventBus } from '../src/realtime/stream-event-bus.js';
import { WatchPresenceDocument } from './__generated__/graphql.js';
import { AsyncQueue } from './helpers/async-queue.js';
import { signUp, type TestUser } from './helpers/fixtures.js';
import { ManualClock } from './helpers/manual-clock.js';
import { createTestDatabase, startTestServer, type TestDatabase, type TestServer } from './helpers/test-server.js';
import { connectWs, type TestWsClient } from './helpers/ws-client.js';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const log = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'fatal' });

type Seen = [userId: string, status: string, lastSeenAt: Date | null];

/**
 * Parley processes as far as presence goes: each its own pool (or Redis connection), shared state and
 * PresenceService, all on one database, with changes carried between them by one serializing bus (what the
 * cross-process bus does). Leases and heartbeats are short, so a process that stops renewing is found gone quickly.
 */
for (const kind of ['postgres', 'redis'] as const) {
  describe(`presence across processes, state in ${kind === 'postgres' ? 'PostgreSQL' : 'Redis'}`, () => {
    const GRACE_MS = 30_000;
    const keyPrefix = `parley-test-${randomBytes(6).toString('hex')}`;
    const bus = new SerializingStreamEventBus<PresenceChange>();
    let host: TestServer; // the database (migrated) and its users
    const processes: Process[] = [];

    interface Process {
      store: SharedPresenceStore;
      presence: PresenceService;
      stop(): Promise<void>;
      /** Stops renewing its lease without cleaning up, as kill -9 would. */
      crash(): Promise<void>;
    }

    async function startProcess(clock: Clock, options: { graceMs: number; leaseMs: number; heartbeatMs: number }): Promise<Process> {
      const dataSource: DataSource = createDataSource({ url: host.databaseUrl, poolSize: 4 });
      await dataSource.initialize();
      const redis = kind === 'redis' ? new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
      const state =
        kind === 'redis'
          ? await RedisPresenceState.register(redis!, { keyPrefix, leaseMs: options.leaseMs })
          : await PostgresPresenceState.register((dataSource.driver as unknown as { master: pg.Pool }).master, { leaseMs: options.leaseMs });
      const store = SharedPresenceStore.start(state, bus, { offlineGraceMs: options.graceMs, heartbeatMs: options.heartbeatMs }, log);
      const presence = new PresenceService(dataSource, store, clock, { offlineGraceMs: options.graceMs, throttleMs: 0 }, log);
      const close = async () => {
        redis?.disconnect();
        await dataSource.destroy();
      };
      let stopped = false;
      const process: Process = {
        store,
        presence,
        async stop() {
          if (stopped) return;
          stopped = true;
          await presence.dispose();
          await close();
        },
        async crash() {
          stopped = true;
          store.abandon();
          await close();
        },
      };
      processes.push(process);
      return process;
    }

    before(async () => {
      host = await startTestServer({ BUS: 'off' });
    });
    after(async () => {
      for (const process of processes) await process.stop();
      await host.stop();
    });

    async function follow(process: Process, viewer: TestUser, userIds: string[]) {
      const seen = new AsyncQueue<Seen>();
      const stop = await process.presence.follow({ id: viewer.id, username: viewer.username }, userIds, (change) =>
        seen.push([change.userId, change.presence.status, change.presence.lastSeenAt]),
      );
      return { next: (what = 'a presence change') => seen.take(5000, what), seen, stop };
    }

    const user = () => signUp(host);

    it('shows a user connected to A as ONLINE to a watcher on B, and OFFLINE there once the grace after the last close on A ends', async () => {
      const clock = new ManualClock();
      const options = { graceMs: GRACE_MS, leaseMs: 60_000, heartbeatMs: 1000 };
      const [a, b] = [await startProcess(clock, options), await startProcess(clock, options)];
      const [alice, bob] = await Promise.all([user(), user()]);
      const watcher = await follow(b, alice, [bob.id]);
      assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', null]);
      assert.equal(await a.presence.connected(bob.id, 0), true);
      assert.equal(await a.presence.connected(bob.id, 0), true);
      assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
      const late = await follow(b, alice, [bob.id]);
      assert.deepEqual(await late.next(), [bob.id, 'ONLINE', null], 'a new watcher on B reads the shared state');

      a.presence.disconnected(bob.id);
      clock.advance(GRACE_MS * 2); // one socket is still open on A
      const closedAt = new Date(clock.now());
      a.presence.disconnected(bob.id);
      clock.advance(GRACE_MS - 1);
      clock.advance(1);
      assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', closedAt]);
      assert.equal(watcher.seen.size, 0);
      watcher.stop();
      late.stop();
    });

    it('sends nothing when the last socket closes on A and the user reconnects on B within the grace period', async () => {
      const clock = new ManualClock();
      const options = { graceMs: GRACE_MS, leaseMs: 60_000, heartbeatMs: 1000 };
      const [a, b] = [await startProcess(clock, options), await startProcess(clock, options)];
      const [alice, bob, marker] = await Promise.all([user(), user(), user()]);
      const watcher = await follow(a, alice, [bob.id, marker.id]);
      assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', null]);
      assert.deepEqual(await watcher.next(), [marker.id, 'OFFLINE', null]);
      assert.equal(await a.presence.connected(bob.id, 0), true);
      assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);

      a.presence.disconnected(bob.id); // A times the grace period
      clock.advance(GRACE_MS - 1);
      assert.equal(await b.presence.connected(bob.id, 0), true);
      clock.advance(GRACE_MS * 2); // A's timer ends: it reads the shared record and finds bob's socket on B
      assert.equal(await b.presence.connected(marker.id, 0), true);
      assert.deepEqual(await watcher.next(), [marker.id, 'ONLINE', null], 'nothing of bob before the marker');
      const stored = await host.sql<{ last_seen_at: Date | null }>('SELECT last_seen_at FROM users WHERE id = $1', [bob.id]);
      assert.equal(stored[0]!.last_seen_at, null, 'no OFFLINE was stored either');
      watcher.stop();
    });

    it('caps a user\'s sockets across processes, atomically, and counts a closed one off', async () => {
      const options = { graceMs: GRACE_MS, leaseMs: 60_000, heartbeatMs: 1000 };
      const [a, b] = [await startProcess(systemClock, options), await startProcess(systemClock, options)];
      const [carol] = await Promise.all([user()]);
      // Six at once for a cap of 3, spread over both processes: exactly three get in.
      const admitted = await Promise.all([a, b, a, b, a, b].map((p) => p.presence.connected(carol.id, 3)));
      assert.equal(admitted.filter(Boolean).length, 3, JSON.stringify(admitted));
      const holder = admitted.findIndex(Boolean) % 2 === 0 ? a : b;
      holder.presence.disconnected(carol.id);
      const other = holder === a ? b : a;
      const deadline = Date.now() + 5000;
      while (!(await other.presence.connected(carol.id, 3))) {
        assert.ok(Date.now() < deadline, 'the closed socket was never counted off');
        await new Promise((resolve) => setImmediate(resolve)); // the disconnect is in flight
      }
      assert.equal(await a.presence.connected(carol.id, 3), false);
    });

    it('a process that vanishes without cleanup stops counting once its lease runs out: its users go OFFLINE after the grace, its sockets leave the cap', async () => {
      const graceMs = 300;
      const survivor = await startProcess(systemClock, { graceMs, leaseMs: 60_000, heartbeatMs: 50 });
      const doomed = await startProcess(systemClock, { graceMs, leaseMs: 400, heartbeatMs: 50 });
      const [alice, dave] = await Promise.all([user(), user()]);
      assert.equal(await doomed.presence.connected(dave.id, 1), true);
      const watcher = await follow(survivor, alice, [dave.id]);
      const first = await watcher.next();
      if (first[1] === 'OFFLINE') assert.deepEqual(await watcher.next(), [dave.id, 'ONLINE', null]);
      else assert.deepEqual(first, [dave.id, 'ONLINE', null]);
      assert.equal(await survivor.presence.connected(dave.id, 1), false, 'the socket on the doomed process counts against the cap');

      const crashedAt = Date.now();
      await doomed.crash();
      const [userId, status, lastSeenAt] = await watcher.next('OFFLINE after the lease and the grace');
      const elapsed = Date.now() - crashedAt;
      assert.deepEqual([userId, status], [dave.id, 'OFFLINE']);
      assert.ok(lastSeenAt && lastSeenAt.getTime() >= crashedAt - 1000, `lastSeenAt ${lastSeenAt?.toISOString()} is the lapse`);
      assert.ok(elapsed >= graceMs, `OFFLINE after ${elapsed} ms: not before the grace period`);
      assert.equal(await survivor.presence.connected(dave.id, 1), true, 'the lapsed socket no longer counts against the cap');
      watcher.stop();
    });
  });
}

/** Real servers: two Parley apps on one database, as two processes behind a load balancer. */
for (const kind of ['postgres', 'redis'] as const) {
  describe(`presence and the socket cap across two servers (${kind})`, () => {
    const env: Record<string, string> = {
      JWT_SECRET: randomBytes(32).toString('hex'), // one deployment: either server accepts the other's tokens
      PRESENCE_OFFLINE_GRACE: '1s',
      PRESENCE_THROTTLE: '0',
      WS_MAX_SOCKETS_PER_USER: '2',
      ...(kind === 'redis' ? { REDIS_URL, BUS: 'redis', BUS_CHANNEL: `t_${randomBytes(6).toString('hex')}` } : { BUS: 'postgres' }),
    };
    let database: TestDatabase;
    let a: TestServer;
    let b: TestServer;
    const sockets: TestWsClient[] = [];
    before(async () => {
      database = await createTestDatabase();
      a = await startTestServer(env, { database });
      b = await startTestServer(env, { database });
    });
    after(async () => {
      await Promise.all(sockets.map((s) => s.dispose()));
      await a.stop();
      await b.stop();
      await database.drop();
    });

    async function connect(server: TestServer, user: TestUser): Promise<TestWsClient> {
      const ws = connectWs(server.wsUrl, { authorization: `Bearer ${user.token}` });
      sockets.push(ws);
      return ws;
    }

    async function watch(server: TestServer, viewer: TestUser, userIds: string[]) {
      const ws = await connect(server, viewer);
      await ws.connected;
      const subscription = ws.subscribe(WatchPresenceDocument, { userIds });
      return async (what = 'a presence event'): Promise<[string, string, string | null]> => {
        const result = await subscription.results.take(5000, what);
        assert.ok(result.data, JSON.stringify(result.errors));
        const { user, presence } = result.data.presence;
        return [user.id, presence.status, presence.lastSeenAt ?? null];
      };
    }

    it('a user connected to A is ONLINE to a watcher on B, and OFFLINE there after the grace once the socket on A closes', async () => {
      const [alice, bob] = [await signUp(a), await signUp(a)];
      const next = await watch(b, alice, [bob.id]);
      assert.deepEqual(await next(), [bob.id, 'OFFLINE', null]);
      const bobs = await connect(a, bob);
      await bobs.connected;
      assert.deepEqual(await next(), [bob.id, 'ONLINE', null]);
      const closedAt = Date.now();
      bobs.drop();
      const [id, status, lastSeenAt] = await next('OFFLINE through the bus');
      assert.deepEqual([id, status], [bob.id, 'OFFLINE']);
      assert.ok(lastSeenAt && Date.parse(lastSeenAt) >= closedAt - 1000);
      assert.ok(Date.now() - closedAt >= 1000, 'not before the grace period');
      const connectedAgain = await connect(a, bob);
      await connectedAgain.connected;
      assert.deepEqual(await next(), [bob.id, 'ONLINE', null]);
    });

    it('a reconnect through B within the grace after the last socket on A closed sends nothing', async () => {
      const [alice, bob, marker] = [await signUp(a), await signUp(a), await signUp(a)];
      const next = await watch(b, alice, [bob.id, marker.id]);
      assert.deepEqual(await next(), [bob.id, 'OFFLINE', null]);
      assert.deepEqual(await next(), [marker.id, 'OFFLINE', null]);
      const bobs = await connect(a, bob);
      await bobs.connected;
      assert.deepEqual(await next(), [bob.id, 'ONLINE', null]);
      const markers = await connect(a, marker);
      await markers.connected;
      assert.deepEqual(await next(), [marker.id, 'ONLINE', null]);
      bobs.drop();
      await (await connect(b, bob)).connected; // back through the other server, well within the grace
      markers.drop(); // closed after bob's: its grace period ends after bob's would have
      const [id, status] = await next('the marker going OFFLINE');
      assert.deepEqual([id, status], [marker.id, 'OFFLINE'], 'no event of bob came first');
    });

    it('counts a user\'s sockets on both servers against WS_MAX_SOCKETS_PER_USER and refuses the next with 1008', async () => {
      const carol = await signUp(a);
      const first = await connect(a, carol);
      await first.connected;
      const second = await connect(b, carol);
      await second.connected;
      const third = await connect(a, carol);
      assert.deepEqual(await third.closed, { code: 1008, reason: 'Too many sockets for this user (at most 2)' });
      const fourth = await connect(b, carol);
      assert.deepEqual(await fourth.closed, { code: 1008, reason: 'Too many sockets for this user (at most 2)' });
      await first.dispose();
      const deadline = Date.now() + 5000;
      for (;;) {
        const again = await connect(b, carol);
        const outcome = await Promise.race([again.connected.then(() => 'in'), again.closed.then(() => 'refused')]);
        if (outcome === 'in') break;
        assert.ok(Date.now() < deadline, 'the closed socket on A was never counted off'); // its close is in flight
      }
    });
  });
}
