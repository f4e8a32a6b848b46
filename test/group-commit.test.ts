import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { SendMessageDocument } from './__generated__/graphql.js';
import { createRoom, roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { waitForLockWaiters } from './helpers/lock-waiters.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const INSERTS = /INSERT INTO messages/;

/** Sends `perRoom` messages into each room at once, alternating senders, plus the extra sends; settles them all. */
async function burst(rooms: { id: string; senders: TestUser[] }[], perRoom: number) {
  const sends = rooms.flatMap((room) =>
    Array.from({ length: perRoom }, (_, i) => {
      const body = `${room.id.slice(0, 8)} #${i}`;
      return room.senders[i % room.senders.length]!.http.request(SendMessageDocument, { roomId: room.id, body }).then((result) => ({ room: room.id, body, result }));
    }),
  );
  return Promise.all(sends);
}

/** Seqs of the room's MESSAGE_ADDED events and messages, as stored. */
async function stored(server: TestServer, roomId: string) {
  const messages = await server.sql<{ seq: number; body: string }>('SELECT seq, body FROM messages WHERE room_id = $1 ORDER BY seq', [roomId]);
  const events = await server.sql<{ seq: number }>('SELECT seq FROM room_events WHERE room_id = $1 ORDER BY seq', [roomId]);
  return { messages, eventSeqs: events.map((e) => e.seq) };
}

describe('group commit of sends', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  before(async () => {
    server = await startTestServer(); // SEND_GROUP_COMMIT defaults to on
    [alice, bob, mallory] = [await signUp(server), await signUp(server), await signUp(server)];
  });
  after(() => server.stop());

  it('stores concurrent sends to several rooms in fewer statements, each once, with gap-free seqs', async () => {
    const rooms = [await roomWithMembers(alice, [bob]), await roomWithMembers(alice, [bob]), await createRoom(bob)];
    const from = server.sqlStatements.length;
    const outcomes = await burst(
      rooms.map((room, r) => ({ id: room.id, senders: r === 2 ? [bob] : [alice, bob] })),
      30,
    );
    const statements = server.sqlStatements.slice(from).filter((sql) => INSERTS.test(sql)).length;
    assert.ok(statements < outcomes.length, `${statements} insert statements for ${outcomes.length} sends`);
    for (const room of rooms) {
      const acked = outcomes.filter((o) => o.room === room.id).map((o) => o.result.data!.sendMessage);
      assert.equal(acked.length, 30);
      const { messages, eventSeqs } = await stored(server, room.id);
      // Every acknowledged message is stored once under the seq it was acknowledged with.
      assert.deepEqual(
        messages.map((m) => [m.seq, m.body]),
        [...acked].sort((a, b) => a.seq - b.seq).map((m) => [m.seq, m.body]),
      );
      // The log has no gaps: the joins (if any) and the 30 messages, 1..n.
      assert.deepEqual(eventSeqs, Array.from({ length: eventSeqs.length }, (_, i) => i + 1));
    }
  });

  it('refuses a non-member in a batch with FORBIDDEN while the members in the same batch are stored', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const sends = [alice, mallory, bob, mallory, alice].map((sender, i) =>
      sender.http.request(SendMessageDocument, { roomId: room.id, body: `mixed ${i}` }),
    );
    const results = await Promise.all(sends);
    assert.deepEqual(results.map((r) => (r.errors ? errorCodes(r) : 'ok')), ['ok', ['FORBIDDEN'], 'ok', ['FORBIDDEN'], 'ok']);
    const { messages } = await stored(server, room.id);
    assert.deepEqual(messages.map((m) => m.body).sort(), ['mixed 0', 'mixed 2', 'mixed 4']);
  });

  it('falls back to one by one when a batch fails, so racing retries still store one message and waste no seq', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const sends = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0
        ? alice.http.request(SendMessageDocument, { roomId: room.id, body: 'retried', clientMessageId: 'same-id' })
        : bob.http.request(SendMessageDocument, { roomId: room.id, body: `other ${i}` }),
    );
    const results = await Promise.all(sends);
    assert.ok(results.every((r) => !r.errors), JSON.stringify(results.find((r) => r.errors)));
    const retried = new Set(results.filter((_, i) => i % 3 === 0).map((r) => r.data!.sendMessage.id));
    assert.equal(retried.size, 1);
    const { messages, eventSeqs } = await stored(server, room.id);
    assert.equal(messages.filter((m) => m.body === 'retried').length, 1);
    assert.equal(messages.length, 1 + 8);
    assert.deepEqual(eventSeqs, Array.from({ length: eventSeqs.length }, (_, i) => i + 1));
  });
});

describe('a group commit that fails as a whole', () => {
  let server: TestServer;
  const warnings: Record<string, unknown>[] = [];
  before(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    server = await startTestServer({}, { logger });
    // A systematic fault that only statements storing several messages hit, as a broken batch statement would.
    await server.sql(`CREATE FUNCTION refuse_batches() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT count(*) FROM inserted) > 1 THEN RAISE EXCEPTION 'batch refused by the test'; END IF;
        RETURN NULL;
      END $$`);
    await server.sql('CREATE TRIGGER refuse_batches AFTER INSERT ON messages REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION refuse_batches()');
  });
  after(() => server.stop());

  it('is logged at warn with its error and counted, and its messages are still stored one by one', async () => {
    const alice = await signUp(server);
    const room = await createRoom(alice);
    let sent = 0;
    // Sends batch only when they arrive while another store is in flight: hold the room's lock so the first one
    // waits and the rest gather behind it. A burst is repeated (at most 5 times) until one formed a batch.
    for (let attempt = 0; attempt < 5 && warnings.length === 0; attempt++) {
      const holder = new pg.Client({ connectionString: server.databaseUrl });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [room.id]);
      const sends = Array.from({ length: 30 }, (_, i) => alice.http.request(SendMessageDocument, { roomId: room.id, body: `attempt ${attempt} #${i}` }));
      sent += sends.length;
      await waitForLockWaiters(server);
      await holder.query('COMMIT');
      await holder.end();
      const results = await Promise.all(sends);
      assert.ok(results.every((r) => !r.errors), JSON.stringify(results.find((r) => r.errors)));
    }
    const fallback = warnings.find((w) => w['msg'] === 'group commit failed: storing its messages one by one');
    assert.ok(fallback, `a fallback was logged: ${JSON.stringify(warnings)}`);
    assert.match(JSON.stringify(fallback['err']), /batch refused by the test/);
    assert.ok(Number(fallback['messages']) > 1 && Number(fallback['fallbacks']) >= 1);
    const { messages, eventSeqs } = await stored(server, room.id);
    assert.equal(messages.length, sent, 'every acknowledged send is stored');
    assert.deepEqual(eventSeqs, Array.from({ length: sent }, (_, i) => i + 1));
  });
});

describe('sends without group commit', () => {
  let server: TestServer;
  let alice: TestUser;
  before(async () => {
    server = await startTestServer({ SEND_GROUP_COMMIT: 'off' });
    alice = await signUp(server);
  });
  after(() => server.stop());

  it('stores each concurrent send in its own statement (one transaction per message)', async () => {
    const room = await createRoom(alice);
    const from = server.sqlStatements.length;
    const outcomes = await burst([{ id: room.id, senders: [alice] }], 10);
    assert.ok(outcomes.every((o) => o.result.data));
    assert.equal(server.sqlStatements.slice(from).filter((sql) => INSERTS.test(sql)).length, 10);
    assert.deepEqual((await stored(server, room.id)).eventSeqs, Array.from({ length: 10 }, (_, i) => i + 1));
  });
});
