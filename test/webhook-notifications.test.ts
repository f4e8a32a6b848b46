import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { ConfigError, loadConfig } from '../src/config.js';
import { messagePreview } from '../src/notifications/message-preview.js';
import { WebhookDelivery } from '../src/notifications/webhook-delivery.js';
import { OpenDirectRoomDocument, SendMessageDocument } from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { WebhookReceiver, type ReceivedWebhook } from './helpers/webhook-receiver.js';
import { connectWs } from './helpers/ws-client.js';

const SECRET = 'webhook-secret-for-tests-0123456789';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type LogLine = Record<string, unknown> & { msg: string };

/** The server's log lines about notifications, awaited by tests instead of sleeping. */
class NotificationLog {
  private readonly lines: LogLine[] = [];
  private readonly waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  readonly logger = pino({ level: 'debug' }, {
    write: (text: string) => {
      const line = JSON.parse(text) as LogLine;
      if (!/webhook|notification/.test(line.msg)) return;
      this.lines.push(line);
      for (const waiter of this.waiters.filter((w) => w.match(line))) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    },
  });

  /** Lines logged so far that match. */
  matching(match: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter(match);
  }

  /** The first line (already logged or still to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (line: LogLine) => boolean, what: string, timeoutMs = 5000): Promise<LogLine> {
    const logged = this.lines.find(match);
    if (logged) return Promise.resolve(logged);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for the log line: ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}

const about = (id: string) => (line: LogLine) => line['notificationId'] === id;

async function openDirect(from: TestUser, to: TestUser) {
  return (await from.http.data(OpenDirectRoomDocument, { userId: to.id })).openDirectRoom;
}

async function send(from: TestUser, roomId: string, body: string) {
  return (await from.http.data(SendMessageDocument, { roomId, body })).sendMessage;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('offline notifications over the webhook', () => {
  let receiver: WebhookReceiver;
  let server: TestServer;
  let log: NotificationLog;
  let alice: TestUser;

  before(async () => {
    receiver = await WebhookReceiver.start(SECRET);
    log = new NotificationLog();
    server = await startTestServer(
      { NOTIFY_WEBHOOK_URL: receiver.url, NOTIFY_WEBHOOK_SECRET: SECRET, NOTIFY_WEBHOOK_RETRY_DELAY: '20ms', NOTIFY_WEBHOOK_TIMEOUT: '60s' },
      { logger: log.logger },
    );
    alice = await signUp(server);
  });
  after(async () => {
    await server.stop();
    await receiver.close();
  });

  /** A DM from alice to a fresh user with no socket: the marker whose notification must be the next one to arrive. */
  async function dmToSomeoneOffline(body = 'marker') {
    const someone = await signUp(server);
    const room = await openDirect(alice, someone);
    return { someone, room, message: await send(alice, room.id, body) };
  }

  /** Asserts the next request is the notification of `messageId` (so nothing else was sent before it). */
  async function nextIsFor(messageId: string): Promise<ReceivedWebhook> {
    const request = await receiver.received.take(5000, `the notification of ${messageId}`);
    assert.equal(request.notification.messageId, messageId, `expected the notification of ${messageId}, got ${request.rawBody}`);
    return request;
  }

  it('POSTs one signed notification of a DM to a user with no open socket, with a preview cut to 140 characters', async () => {
    const bob = await signUp(server);
    const room = await openDirect(alice, bob);
    // 137 letters, then a family emoji (five code points joined by ZWJ) that must not be split.
    const sent = await send(alice, room.id, `${'a'.repeat(137)}👨‍👩‍👧 and more`);

    const request = await receiver.received.take(5000, 'the DM notification');
    assert.equal(request.signatureValid, true);
    assert.ok(request.timestampSkewSeconds < 60, `timestamp off by ${request.timestampSkewSeconds} s`);
    assert.equal(request.headers['content-type'], 'application/json');
    assert.match(request.notification.id, UUID);
    assert.deepEqual(request.notification, {
      id: request.notification.id,
      kind: 'DIRECT_MESSAGE',
      recipientId: bob.id,
      room: { id: room.id, name: alice.username, kind: 'DIRECT' },
      messageId: sent.id,
      author: { id: alice.id, username: alice.username },
      preview: `${'a'.repeat(137)}…`,
      sentAt: new Date(sent.createdAt as string).toISOString(),
    });
    await log.waitFor((l) => about(request.notification.id)(l) && l.msg === 'webhook notification delivered', 'delivered');
  });

  it('notifies nobody of a DM to a user with an open socket', async () => {
    const carol = await signUp(server);
    const carolWs = connectWs(server.wsUrl, { authorization: `Bearer ${carol.token}` });
    try {
      await carolWs.connected;
      const room = await openDirect(alice, carol);
      await send(alice, room.id, 'carol is here');
      const marker = await dmToSomeoneOffline();
      await nextIsFor(marker.message.id);
    } finally {
      await carolWs.dispose();
    }
  });

  it('notifies nobody of a note to oneself', async () => {
    const self = await openDirect(alice, alice);
    await send(alice, self.id, 'remember the milk');
    const marker = await dmToSomeoneOffline();
    await nextIsFor(marker.message.id);
  });

  it('notifies an offline member mentioned in a group room, as MENTION, and no member with an open socket', async () => {
    const [bob, dana] = await Promise.all([signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob, dana]);
    const danaWs = connectWs(server.wsUrl, { authorization: `Bearer ${dana.token}` });
    try {
      await danaWs.connected;
      const sent = await send(alice, room.id, `hi @${bob.username} and @${dana.username}`);
      const request = await nextIsFor(sent.id);
      assert.equal(request.signatureValid, true);
      assert.deepEqual(request.notification, {
        id: request.notification.id,
        kind: 'MENTION',
        recipientId: bob.id,
        room: { id: room.id, name: room.name, kind: 'PUBLIC' },
        messageId: sent.id,
        author: { id: alice.id, username: alice.username },
        preview: `hi @${bob.username} and @${dana.username}`,
        sentAt: new Date(sent.createdAt as string).toISOString(),
      });
      const marker = await dmToSomeoneOffline();
      await nextIsFor(marker.message.id); // nothing for dana, and one notification for bob
    } finally {
      await danaWs.dispose();
    }
  });

  it('notifies a DM that mentions its recipient once, as DIRECT_MESSAGE', async () => {
    const frank = await signUp(server);
    const room = await openDirect(alice, frank);
    const sent = await send(alice, room.id, `@${frank.username} look`);
    assert.equal((await nextIsFor(sent.id)).notification.kind, 'DIRECT_MESSAGE');
    const marker = await dmToSomeoneOffline();
    await nextIsFor(marker.message.id);
  });

  it('retries 500 with backoff and delivers once, under the same notification id', async () => {
    let failures = 0;
    receiver.answer = () => (failures++ < 2 ? 500 : 200);
    try {
      const { message } = await dmToSomeoneOffline('retry me');
      const attempts = await receiver.received.takeMany(3, 5000, 'three attempts');
      assert.deepEqual(attempts.map((a) => a.notification.messageId), [message.id, message.id, message.id]);
      assert.equal(new Set(attempts.map((a) => a.notification.id)).size, 1);
      assert.equal(new Set(attempts.map((a) => a.rawBody)).size, 1);
      assert.ok(attempts.every((a) => a.signatureValid));
      const id = attempts[0]!.notification.id;
      await log.waitFor((l) => about(id)(l) && l.msg === 'webhook notification delivered' && l['attempt'] === 3, 'delivered on attempt 3');
      assert.equal(log.matching((l) => about(id)(l) && l.msg === 'webhook notification failed: will retry').length, 2);
    } finally {
      receiver.answer = () => 200;
    }
    const marker = await dmToSomeoneOffline();
    await nextIsFor(marker.message.id); // no fourth attempt
  });

  it('does not retry a 4xx answer', async () => {
    receiver.answer = () => 400;
    let id: string;
    try {
      const { message } = await dmToSomeoneOffline('refused');
      id = (await nextIsFor(message.id)).notification.id;
      const refused = await log.waitFor((l) => about(id)(l) && l.msg === 'webhook refused a notification: not retried', 'refused');
      assert.equal(refused['status'], 400);
    } finally {
      receiver.answer = () => 200;
    }
    const marker = await dmToSomeoneOffline();
    await nextIsFor(marker.message.id);
    assert.equal(log.matching((l) => about(id)(l) && l.msg === 'webhook notification failed: will retry').length, 0);
  });

  it('a receiver that never answers changes no send latency: every send returns, requests in flight stay bounded', async (t) => {
    const erin = await signUp(server);
    const room = await openDirect(alice, erin);
    const timedSends = async (count: number, label: string) => {
      const sent: { id: string; ms: number }[] = [];
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        const message = await send(alice, room.id, `${label} ${i}`);
        sent.push({ id: message.id, ms: performance.now() - started });
      }
      return sent;
    };

    const baseline = await timedSends(20, 'answered');
    await receiver.received.takeMany(20, 10_000, 'the answered notifications');

    receiver.answer = () => 'hang';
    const first = await timedSends(8, 'held');
    const held = await receiver.received.takeMany(8, 5000, 'eight requests held open');
    assert.deepEqual(held.map((r) => r.notification.messageId), first.map((s) => s.id));
    // Every request slot is now held open (NOTIFY_WEBHOOK_TIMEOUT is 60 s): a send that waited for its webhook
    // would not return before the test times out.
    const during = await timedSends(40, 'while hanging');
    assert.equal(receiver.heldCount, 8);
    assert.equal(receiver.received.size, 0, 'no request beyond the concurrency bound was started');
    t.diagnostic(`send latency p50: ${median(baseline.map((s) => s.ms)).toFixed(1)} ms answered, ${median(during.map((s) => s.ms)).toFixed(1)} ms while the receiver hangs`);
    assert.ok(median(during.map((s) => s.ms)) < median(baseline.map((s) => s.ms)) * 3 + 50, 'sends are not slowed by a hanging receiver');

    receiver.answer = () => 200;
    receiver.releaseHeld(200);
    const rest = await receiver.received.takeMany(40, 10_000, 'the queued notifications');
    assert.deepEqual(new Set(rest.map((r) => r.notification.messageId)), new Set(during.map((s) => s.id)));
    for (const request of held) {
      await log.waitFor((l) => about(request.notification.id)(l) && l.msg === 'webhook notification delivered' && l['attempt'] === 1, 'a held request answered late');
    }
  });
});

describe('webhook delivery limits', () => {
  it('drops a notification with a warning when the queue is full, and aborts held requests on close', async () => {
    const receiver = await WebhookReceiver.start(SECRET);
    receiver.answer = () => 'hang';
    const warnings: Record<string, unknown>[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    const delivery = new WebhookDelivery({ url: receiver.url, secret: SECRET, timeoutMs: 60_000, retryDelayMs: 20, maxConcurrent: 1, maxPending: 2, log });
    try {
      const accepted = ['one', 'two', 'three'].map((id) => delivery.enqueue({ id, body: JSON.stringify({ id }) }));
      assert.deepEqual(accepted, [true, true, false]);
      assert.equal(warnings.find((w) => w['msg'] === 'webhook queue full: notification dropped')?.['notificationId'], 'three');
      assert.equal((await receiver.received.take(5000, 'the first request')).notification.id, 'one');
      assert.equal(delivery.pending, 2);
      await delivery.close();
      assert.equal(delivery.pending, 0);
      assert.equal(warnings.find((w) => w['msg'] === 'stopping: webhook notifications not delivered')?.['undelivered'], 2);
      assert.equal(delivery.enqueue({ id: 'late', body: '{}' }), false);
      assert.equal(receiver.received.size, 0, 'the queued notification was never sent');
    } finally {
      await delivery.close();
      await receiver.close();
    }
  });

  it('stopping the server cancels a pending retry', async () => {
    const receiver = await WebhookReceiver.start(SECRET);
    receiver.answer = () => 503;
    const log = new NotificationLog();
    const server = await startTestServer(
      { NOTIFY_WEBHOOK_URL: receiver.url, NOTIFY_WEBHOOK_SECRET: SECRET, NOTIFY_WEBHOOK_RETRY_DELAY: '1h' },
      { logger: log.logger },
    );
    try {
      const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
      const room = await openDirect(alice, bob);
      await send(alice, room.id, 'into the void');
      await receiver.received.take(5000, 'the first attempt');
      await log.waitFor((l) => l.msg === 'webhook notification failed: will retry', 'a retry scheduled');
    } finally {
      const started = performance.now();
      await server.stop();
      assert.ok(performance.now() - started < 10_000);
      await receiver.close();
    }
    const stopped = await log.waitFor((l) => l.msg === 'stopping: webhook notifications not delivered', 'the undelivered count');
    assert.equal(stopped['undelivered'], 1);
    assert.equal(receiver.received.size, 0, 'no attempt after the first');
  });
});

describe('webhook configuration and preview', () => {
  it('requires NOTIFY_WEBHOOK_SECRET with NOTIFY_WEBHOOK_URL, and an http(s) URL', () => {
    assert.throws(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'https://push.example.com/parley' }), (e: unknown) => e instanceof ConfigError && /NOTIFY_WEBHOOK_SECRET/.test(e.message));
    assert.throws(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'ftp://push.example.com', NOTIFY_WEBHOOK_SECRET: SECRET }), /NOTIFY_WEBHOOK_URL/);
    assert.throws(() => loadConfig({ NOTIFY_WEBHOOK_URL: 'https://push.example.com', NOTIFY_WEBHOOK_SECRET: 'short' }), /NOTIFY_WEBHOOK_SECRET/);
    assert.equal(loadConfig({}).notifyWebhook, undefined);
    assert.deepEqual(loadConfig({ NOTIFY_WEBHOOK_URL: 'https://push.example.com/p', NOTIFY_WEBHOOK_SECRET: SECRET }).notifyWebhook, {
      url: 'https://push.example.com/p',
      secret: SECRET,
      timeoutMs: 10_000,
      retryDelayMs: 2000,
    });
  });

  it('previews a body on one line, at most 140 characters, cut between graphemes', () => {
    assert.equal(messagePreview('  hello\n\n  world  '), 'hello world');
    assert.equal(messagePreview('x'.repeat(140)), 'x'.repeat(140));
    assert.equal(messagePreview('x'.repeat(141)), `${'x'.repeat(139)}…`);
    const flags = '🇫🇷'.repeat(100); // each flag: two code points, one grapheme
    const preview = messagePreview(flags);
    assert.equal(preview, `${'🇫🇷'.repeat(69)}…`);
    assert.ok([...preview].length <= 140);
    assert.equal(messagePreview(`${'e\u0301'.repeat(70)}x`), `${'e\u0301'.repeat(69)}…`); // é as e + combining acute
  });
});
