// PostgreSQL restarted (fast) and crashed (kill -9) under live subscribers and a send storm, on a cluster of the
// test's own: every committed event reaches every subscriber exactly once, by live delivery or by the client's
// resume, and no send is acknowledged that was not committed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { startApp, type RunningApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { MarkReadDocument, MeDocument, OutageFollowDocument as FOLLOW, RoomCursorDocument, SendMessageDocument } from './__generated__/graphql.js';
import { AsyncQueue } from './helpers/async-queue.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { ManualClock } from './helpers/manual-clock.js';
import { startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres.js';
import type { TestServer } from './helpers/test-server.js';
import { connectWs, type TestWsClient } from './helpers/ws-client.js';

/**
 * A client that keeps the delivery promise as the README tells: it tracks the last cursor, re-subscribes with it
 * after any close or retryable refusal, and records every persisted event it is given (duplicates included, so
 * the test can see them).
 */
class ResumingFollower {
  readonly seqs: number[] = [];
  reconnects = 0;
  readonly refusals: unknown[] = [];
  readonly errorPayloads: unknown[] = [];
  /** How the server closed this follower's sockets. */
  readonly closes: { code: number; reason: string }[] = [];
  private cursor: string;
  private stopped = false;
  private current: TestWsClient | undefined;
  private readonly progress = new AsyncQueue<number>();
  private readonly done: Promise<void>;

  constructor(
    private readonly wsUrl: string,
    private readonly user: TestUser,
    private readonly roomId: string,
    startCursor: string,
  ) {
    this.cursor = startCursor;
    this.done = this.run();
  }

  /** Waits until the server has closed one of this follower's sockets with `close`. */
  async closedWith(close: { code: number; reason: string }, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closes.some((c) => c.code === close.code && c.reason === close.reason)) {
      if (Date.now() > deadline) throw new Error(`not closed with ${JSON.stringify(close)}: ${JSON.stringify(this.closes)}`);
      await new Promise((resolve) => setTimeout(resolve, 20)); // polls the follower's record of its closes
    }
  }

  /** Waits until an event with seq >= `seq` has arrived. */
  async reach(seq: number, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.seqs.at(-1) ?? 0) < seq) {
      await this.progress.take(Math.max(1, deadline - Date.now()), `seq ${seq} (have ${this.seqs.at(-1)})`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.current?.dispose(); // ends the subscription the loop waits on
    await this.done;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const ws = connectWs(this.wsUrl, { authorization: `Bearer ${this.user.token}` });
      this.current = ws;
      const sub = ws.subscribe(FOLLOW, { roomId: this.roomId, after: this.cursor });
      const ended = sub.ended.then((end) => ({ end }));
      let received = 0;
      for (;;) {
        // A quiet stream is normal: wait in short rounds so no long timer outlives the test.
        const idle = { idle: true } as const;
        const next = await Promise.race([sub.results.take(1000, 'an event').then((result) => ({ result }), () => idle), ended]);
        if ('idle' in next) continue;
        if ('end' in next) {
          if (next.end.kind === 'closed') this.closes.push({ code: next.end.code, reason: next.end.reason });
          break;
        }
        const { result } = next;
        if (!result.data && received === 0) {
          this.refusals.push(result.errors); // a refused (re)subscribe, e.g. SERVICE_UNAVAILABLE: retry
          break;
        }
        if (!result.data) {
          this.errorPayloads.push(result.errors); // an error in place of an event, on a stream that goes on
          continue;
        }
        received++;
        const event = result.data.roomEvents;
        if (event.seq == null) continue;
        this.seqs.push(event.seq);
        this.cursor = event.cursor!;
        this.progress.push(event.seq);
        if (this.stopped) break;
      }
      await ws.dispose();
      if (this.stopped) return;
      this.reconnects++;
      await new Promise((resolve) => setTimeout(resolve, 100)); // the client's reconnect backoff
    }
  }
}

/** Sends with a clientMessageId, retrying the same id until acknowledged, as a client that must not lose a send. */
async function sendUntilAcknowledged(user: TestUser, roomId: string, body: string, failures: { count: number }) {
  const clientMessageId = `${body}`;
  for (;;) {
    const response = await user.http.request(SendMessageDocument, { roomId, body, clientMessageId }).catch(() => undefined);
    if (response?.data) return response.data.sendMessage;
    failures.count++;
    if (response) assert.deepEqual(errorCodes(response), ['SERVICE_UNAVAILABLE'], JSON.stringify(response.errors));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the client's retry backoff
  }
}

describe('a PostgreSQL restart and crash under live subscribers and a send storm', () => {
  let postgres: PrivatePostgres;
  let app: RunningApp;
  let server: TestServer;
  const clock = new ManualClock(); // moves read receipts out of their throttle window when the test says
  before(async () => {
    postgres = await startPrivatePostgres();
    const config = loadConfig({ DATABASE_URL: postgres.url, PORT: '0', NODE_ENV: 'test', JWT_SECRET: randomBytes(32).toString('hex'), RATE_LIMITS: 'off' });
    app = await startApp(config, { logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'fatal' }), clock });
    // Only what the fixtures use of a TestServer.
    server = { url: app.url, wsUrl: app.url.replace(/^http/, 'ws') } as TestServer;
  });
  after(async () => {
    await app?.stop();
    await postgres?.destroy();
  });

  it('delivers every committed event to every subscriber exactly once, in order, and acknowledges only commits', async () => {
    const owner = await signUp(server);
    const senders = [await signUp(server), await signUp(server)];
    const room = await roomWithMembers(owner, senders);
    const latecomer = await signUp(server); // its token is first presented during the outage
    const { room: read } = await owner.http.data(RoomCursorDocument, { id: room.id });
    const followers = [owner, ...senders].map((user) => new ResumingFollower(server.wsUrl, user, room.id, read!.cursor));

    const acknowledged: { id: string; seq: number }[] = [];
    const failures = { count: 0 };
    let storming = true;
    const storm = Promise.all(
      senders.map(async (sender, s) => {
        for (let i = 0; storming; i++) acknowledged.push(await sendUntilAcknowledged(sender, room.id, `s${s}-${i}`, failures));
      }),
    );
    const acknowledgedReaches = async (count: number) => {
      const deadline = Date.now() + 60_000;
      while (acknowledged.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${acknowledged.length} sends acknowledged`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    await acknowledgedReaches(20);
    // A read receipt held by its throttle window, to be published (and rendered) while the database is down.
    await owner.http.data(MarkReadDocument, { roomId: room.id, seq: 1 });
    await owner.http.data(MarkReadDocument, { roomId: room.id, seq: 2 });
    await postgres.stop('fast');
    clock.advance(10_000);
    // Rendering it needs the database (the user): after the retries every follower's socket is closed with a code
    // stock clients retry, instead of being sent an error in place of the event.
    const databaseClose = { code: 1013, reason: 'Database unavailable: reconnect and resume from your last cursor' };
    for (const follower of followers) await follower.closedWith(databaseClose);
    // During the outage: requests fail fast with a retryable code, and so does a resume.
    const during = await owner.http.request(MeDocument, {});
    assert.deepEqual(errorCodes(during), ['SERVICE_UNAVAILABLE']);
    const resumeWs = connectWs(server.wsUrl, { authorization: `Bearer ${owner.token}` });
    const refused = await resumeWs.subscribe(FOLLOW, { roomId: room.id, after: read!.cursor }).results.take(10_000, 'the refusal');
    assert.deepEqual(errorCodes(refused), ['SERVICE_UNAVAILABLE']);
    await resumeWs.dispose();
    // A socket whose token must be looked up is closed with a code stock clients retry (not 4500).
    const latecomerWs = connectWs(server.wsUrl, { authorization: `Bearer ${latecomer.token}` });
    assert.deepEqual(await latecomerWs.closed, { code: 1013, reason: 'Database unavailable: reconnect and resume from your last cursor' });
    await postgres.start();

    await acknowledgedReaches(acknowledged.length + 20);
    await postgres.crash();
    await postgres.start();
    await acknowledgedReaches(acknowledged.length + 20);
    storming = false;
    await storm;

    const db = new pg.Client({ connectionString: postgres.url });
    await db.connect();
    const committed = (await db.query<{ seq: number }>('SELECT seq FROM room_events WHERE room_id = $1 ORDER BY seq', [room.id])).rows.map((r) => r.seq);
    const storedIds = new Set((await db.query<{ id: string }>('SELECT id FROM messages WHERE room_id = $1', [room.id])).rows.map((r) => r.id));
    await db.end();

    for (const sent of acknowledged) assert.ok(storedIds.has(sent.id), `acknowledged send ${sent.seq} is stored`);
    assert.equal(new Set(acknowledged.map((a) => a.id)).size, acknowledged.length, 'each retried send stored once');
    assert.ok(failures.count > 0, 'the outage was felt by the senders');
    const expected = committed.filter((seq) => seq > read!.lastSeq);
    for (const follower of followers) {
      await follower.reach(committed.at(-1)!);
      await follower.stop();
      assert.deepEqual(follower.seqs, expected, `exactly once, in order (reconnects: ${follower.reconnects})`);
      assert.deepEqual(follower.errorPayloads, [], 'no error payload in place of an event');
      for (const refusal of follower.refusals) assert.deepEqual(errorCodes({ errors: refusal as never }), ['SERVICE_UNAVAILABLE']);
    }
  });
});
