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
import type { ManualStatus } from '../src/realtime/presence-store.js';
import { SharedPresenceStore, type SharedPresence, type SharedPresenceState } from '../src/realtime/shared-presence-store.js';
import { SerializingStreamEventBus } from '../src/realtime/stream-event-bus.js';
import { SocketSessions, type SessionState } from '../src/transport/ws-sessions.js';
import type { Authenticator } from '../src/auth/authenticator.js';
import type { WebSocket } from 'ws';
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
 * A process's shared state as a test can break it: while `down` every call fails before reaching the state (an
 * outage); while `answersLost` every call is applied and then fails (the connection dropped before the answer came
 * back). `calls` lists the calls made, and `afterRead` runs once after the next read, before its answer is returned.
 */
class BreakableState implements SharedPresenceState {
  down = false;
  answersLost = false;
  readonly calls: string[] = [];
  afterRead: (() => Promise<void>) | undefined;
  private readonly waiting = new Set<() => void>();

  constructor(private readonly state: SharedPresenceState) {}

  get processId(): string {
    return this.state.processId;
  }

  /** Resolves once `done` holds of the calls made (checked after each call). */
  until(done: (calls: readonly string[]) => boolean): Promise<void> {
    if (done(this.calls)) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!done(this.calls)) return;
        this.waiting.delete(check);
        resolve();
      };
      this.waiting.add(check);
    });
  }

  connect(userId: string, maxSockets: number): Promise<SharedPresence | null> {
    return this.call('connect', () => this.state.connect(userId, maxSockets));
  }
  disconnect(userId: string, at: Date): Promise<SharedPresence> {
    return this.call('disconnect', () => this.state.disconnect(userId, at));
  }
  setManual(userId: string, manual: ManualStatus | null): Promise<SharedPresence | undefined> {
    return this.call('setManual', () => this.state.setManual(userId, manual));
  }
  read(userIds: readonly string[]): Promise<Map<string, SharedPresence>> {
    return this.call('read', async () => {
      const found = await this.state.read(userIds);
      const hook = this.afterRead;
      this.afterRead = undefined;
      await hook?.();
      return found;
    });
  }
  storeShown(userId: string, shown: Parameters<SharedPresenceState['storeShown']>[1]): Promise<void> {
    return this.call('storeShown', () => this.state.storeShown(userId, shown));
  }
  beat(localSockets: ReadonlyMap<string, number>): Promise<void> {
    return this.call('beat', () => this.state.beat(localSockets));
  }
  sweep(graceMs: number): Promise<string[]> {
    return this.call('sweep', () => this.state.sweep(graceMs));
  }
  close(): Promise<void> {
    return this.state.close();
  }

  private async call<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      if (this.down) throw new Error(`presence state unreachable (test): ${name}`);
      const result = await work();
      if (this.answersLost) throw new Error(`presence state's answer lost (test): ${name}`);
      return result;
    } finally {
      this.calls.push(name);
      for (const check of [...this.waiting]) check();
    }
  }
}

/** An open WebSocket as SocketSessions sees one (it only reads readyState and may close it). */
function openSocket(): WebSocket {
  return { readyState: 1, OPEN: 1, close() {} } as unknown as WebSocket;
}

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
      state: BreakableState;
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
      const state = new BreakableState(
        kind === 'redis'
          ? await RedisPresenceState.register(redis!, { keyPrefix, leaseMs: options.leaseMs })
          : await PostgresPresenceState.register((dataSource.driver as unknown as { master: pg.Pool }).master, { leaseMs: options.leaseMs }),
      );
      const store = SharedPresenceStore.start(state, bus, { offlineGraceMs: options.graceMs, heartbeatMs: options.heartbeatMs }, log);
      const presence = new PresenceService(dataSource, store, clock, { offlineGraceMs: options.graceMs, throttleMs: 0 }, log);
      const close = async () => {
        redis?.disconnect();
        await dataSource.destroy();
      };
      let stopped = false;
      const process: Process = {
        state,
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
      assert.equal(await a.presence.connected(bob.id, 0), 'counted');
      assert.equal(await a.presence.connected(bob.id, 0), 'counted');
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
      assert.equal(await a.presence.connected(bob.id, 0), 'counted');
      assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);

      a.presence.disconnected(bob.id); // A times the grace period
      clock.advance(GRACE_MS - 1);
      assert.equal(await b.presence.connected(bob.id, 0), 'counted');
      clock.advance(GRACE_MS * 2); // A's timer ends: it reads the shared record and finds bob's socket on B
      assert.equal(await b.presence.connected(marker.id, 0), 'counted');
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
      assert.equal(admitted.filter((count) => count === 'counted').length, 3, JSON.stringify(admitted));
      const holder = admitted.indexOf('counted') % 2 === 0 ? a : b;
      holder.presence.disconnected(carol.id);
      const other = holder === a ? b : a;
      const deadline = Date.now() + 5000;
      while ((await other.presence.connected(carol.id, 3)) !== 'counted') {
        assert.ok(Date.now() < deadline, 'the closed socket was never counted off');
        await new Promise((resolve) => setImmediate(resolve)); // the disconnect is in flight
      }
      assert.equal(await a.presence.connected(carol.id, 3), 'overCap');
    });

    it('a process that vanishes without cleanup stops counting once its lease runs out: its users go OFFLINE after the grace, its sockets leave the cap', async () => {
      const graceMs = 300;
      const survivor = await startProcess(systemClock, { graceMs, leaseMs: 60_000, heartbeatMs: 50 });
      const doomed = await startProcess(systemClock, { graceMs, leaseMs: 400, heartbeatMs: 50 });
      const [alice, dave] = await Promise.all([user(), user()]);
      assert.equal(await doomed.presence.connected(dave.id, 1), 'counted');
      const watcher = await follow(survivor, alice, [dave.id]);
      const first = await watcher.next();
      if (first[1] === 'OFFLINE') assert.deepEqual(await watcher.next(), [dave.id, 'ONLINE', null]);
      else assert.deepEqual(first, [dave.id, 'ONLINE', null]);
      assert.equal(await survivor.presence.connected(dave.id, 1), 'overCap', 'the socket on the doomed process counts against the cap');

      const crashedAt = Date.now();
      await doomed.crash();
      const [userId, status, lastSeenAt] = await watcher.next('OFFLINE after the lease and the grace');
      const elapsed = Date.now() - crashedAt;
      assert.deepEqual([userId, status], [dave.id, 'OFFLINE']);
      assert.ok(lastSeenAt && lastSeenAt.getTime() >= crashedAt - 1000, `lastSeenAt ${lastSeenAt?.toISOString()} is the lapse`);
      assert.ok(elapsed >= graceMs, `OFFLINE after ${elapsed} ms: not before the grace period`);
      assert.equal(await survivor.presence.connected(dave.id, 1), 'counted', 'the lapsed socket no longer counts against the cap');
      watcher.stop();
    });

    /** The user's socket count over all processes, read by `process` once its own operations on the user are done. */
    const socketsOf = async (process: Process, userId: string) => (await process.store.current([userId])).get(userId)?.sockets;
    const quiet = { leaseMs: 60_000, heartbeatMs: 3_600_000 }; // heartbeats only when the test calls them

    it('a socket let in uncounted while the state was unreachable takes nothing away when it closes: the user stays counted on their socket elsewhere', async () => {
      const clock = new ManualClock();
      const [a, b] = [await startProcess(clock, { graceMs: GRACE_MS, ...quiet }), await startProcess(clock, { graceMs: GRACE_MS, ...quiet })];
      const bob = await user();
      assert.equal(await a.presence.connected(bob.id, 0), 'counted');
      const sessions = new SocketSessions(undefined as unknown as Authenticator, 0, clock, b.presence);
      const session: SessionState = { socket: openSocket(), auth: { kind: 'anonymous' } };
      b.state.down = true;
      const auth = { kind: 'user', viewer: { id: bob.id, username: bob.username }, expiresAt: new Date(clock.now() + 3_600_000) } as const;
      assert.equal(await sessions.admit(session, auth), true, 'let in while the state is unreachable');
      b.state.down = false;
      sessions.end(session);
      assert.equal(await socketsOf(b, bob.id), 1, 'the socket on A still counts once the one on B closed');
      await b.store.heartbeat();
      assert.equal(await socketsOf(a, bob.id), 1, 'and after B\'s heartbeat');
      await b.stop();
      assert.equal(await socketsOf(a, bob.id), 1, 'and after B left');
    });

    it('a close that could not be counted off while the state was unreachable is counted off by the next heartbeat, and the user goes OFFLINE after the grace', async () => {
      const [a, b] = [await startProcess(systemClock, { graceMs: 0, ...quiet }), await startProcess(systemClock, { graceMs: 0, ...quiet })];
      const [alice, bob] = await Promise.all([user(), user()]);
      const watcher = await follow(a, alice, [bob.id]);
      assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', null]);
      assert.equal(await b.presence.connected(bob.id, 1), 'counted');
      assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
      b.state.down = true;
      b.presence.disconnected(bob.id);
      await b.state.until((calls) => calls.includes('disconnect'));
      b.state.down = false;
      assert.equal(await socketsOf(a, bob.id), 1, 'the failed close left the socket counted');
      await b.store.heartbeat();
      assert.equal(await socketsOf(a, bob.id), 0, 'B\'s heartbeat counted it off');
      const [id, status, lastSeenAt] = await watcher.next('OFFLINE from the sweep once the grace period is over');
      assert.deepEqual([id, status], [bob.id, 'OFFLINE']);
      assert.ok(lastSeenAt, 'with when the user was last seen');
      assert.equal(await a.presence.connected(bob.id, 1), 'counted', 'the closed socket no longer counts against the cap');
      watcher.stop();
    });

    it('a socket whose count landed but whose answer was lost is counted off by the next heartbeat and leaves the cap', async () => {
      const clock = new ManualClock();
      const [a, b] = [await startProcess(clock, { graceMs: GRACE_MS, ...quiet }), await startProcess(clock, { graceMs: GRACE_MS, ...quiet })];
      const erin = await user();
      b.state.answersLost = true;
      assert.equal(await b.presence.connected(erin.id, 1), 'uncounted');
      b.state.answersLost = false;
      assert.equal(await a.presence.connected(erin.id, 1), 'overCap', 'the count landed');
      await b.store.heartbeat();
      assert.equal(await a.presence.connected(erin.id, 1), 'counted', 'B\'s heartbeat took it away');
    });

    it('a process that lost its lease counts its sockets again exactly, those opening and closing meanwhile included', async () => {
      const clock = new ManualClock();
      const [a, b] = [await startProcess(clock, { graceMs: GRACE_MS, ...quiet }), await startProcess(clock, { graceMs: GRACE_MS, ...quiet })];
      const frank = await user();
      for (let i = 0; i < 3; i++) assert.equal(await b.presence.connected(frank.id, 0), 'counted');
      if (kind === 'postgres') {
        await host.sql(`UPDATE parley_processes SET expires_at = now() - interval '1 second' WHERE id = $1`, [b.state.processId]);
      } else {
        const redis = new Redis(REDIS_URL);
        await redis.zadd(`${keyPrefix}:presence:processes`, 0, b.state.processId);
        redis.disconnect();
      }
      await a.store.heartbeat();
      assert.equal(await socketsOf(a, frank.id), 0, 'A\'s sweep took B\'s counts away');
      const opening = [1, 2, 3, 4].map(() => b.presence.connected(frank.id, 0));
      b.presence.disconnected(frank.id);
      const beating = b.store.heartbeat(); // registers again while those are in flight
      assert.deepEqual(await Promise.all(opening), ['counted', 'counted', 'counted', 'counted']);
      await beating;
      await socketsOf(b, frank.id); // after the close too: a heartbeat leaves a user with an operation in flight to the next
      await b.store.heartbeat();
      assert.equal(await socketsOf(a, frank.id), 6, '3 + 4 - 1');
    });

    /** Two processes; alice watches bob through B; bob connects through A and is shown ONLINE. */
    async function bobOnlineThroughA() {
      const clock = new ManualClock();
      const [a, b] = [await startProcess(clock, { graceMs: GRACE_MS, ...quiet }), await startProcess(clock, { graceMs: GRACE_MS, ...quiet })];
      const [alice, bob] = await Promise.all([user(), user()]);
      const watcher = await follow(b, alice, [bob.id]);
      assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', null]);
      assert.equal(await a.presence.connected(bob.id, 0), 'counted');
      assert.deepEqual(await watcher.next(), [bob.id, 'ONLINE', null]);
      return { clock, a, b, bob, watcher };
    }

    it('a user who reconnects through B just as the grace period ends on A stays ONLINE: A checks the record again and sends nothing', async () => {
      const { clock, a, b, bob, watcher } = await bobOnlineThroughA();
      a.presence.disconnected(bob.id);
      assert.equal(await socketsOf(a, bob.id), 0);
      a.state.calls.length = 0;
      let reconnected: string | undefined;
      // Right after A's timer has read the record (no socket), bob's socket opens through B, which finds him shown ONLINE.
      a.state.afterRead = async () => void (reconnected = await b.presence.connected(bob.id, 0));
      clock.advance(GRACE_MS);
      // Fixed: a read when the timer ends, one to publish (finding the socket), one for the throttle's correction.
      await a.state.until((calls) => calls.includes('storeShown') || calls.filter((call) => call === 'read').length >= 3);
      assert.equal(reconnected, 'counted');
      assert.deepEqual(a.state.calls, ['read', 'read', 'read'], 'A stored and sent nothing');
      assert.equal(watcher.seen.size, 0);
      assert.deepEqual((await b.presence.presenceOf(null, [bob.id])).get(bob.id), { status: 'ONLINE', lastSeenAt: null });
      watcher.stop();
    });

    it('a user who reconnects through B while A publishes their OFFLINE is set back to ONLINE', async () => {
      const { clock, a, b, bob, watcher } = await bobOnlineThroughA();
      const closedAt = new Date(clock.now());
      a.presence.disconnected(bob.id);
      assert.equal(await socketsOf(a, bob.id), 0);
      let reconnected: string | undefined;
      // After the timer's read and the one that decides to publish OFFLINE, bob's socket opens through B.
      a.state.afterRead = async () => {
        a.state.afterRead = async () => void (reconnected = await b.presence.connected(bob.id, 0));
      };
      clock.advance(GRACE_MS);
      assert.deepEqual(await watcher.next(), [bob.id, 'OFFLINE', closedAt]);
      assert.deepEqual(await watcher.next('ONLINE again, from A\'s check after publishing'), [bob.id, 'ONLINE', null]);
      assert.equal(reconnected, 'counted');
      assert.deepEqual((await b.presence.presenceOf(null, [bob.id])).get(bob.id), { status: 'ONLINE', lastSeenAt: null });
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
