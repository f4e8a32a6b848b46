import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JoinRoomDocument, MessagesDocument, RoomDocument, SendMessageDocument } from './__generated__/graphql.js';
import { createRoom, roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { HttpClient, errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('sending messages', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    server = await startTestServer({ MESSAGE_MAX_LENGTH: '50' });
    alice = await signUp(server);
    bob = await signUp(server);
  });
  after(() => server.stop());

  it('gives each message the room’s next seq (after bob’s join at seq 1) and moves Room.lastSeq with them', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const sent = [];
    for (const [sender, body] of [[alice, 'one'], [bob, 'two'], [alice, 'three']] as const) {
      sent.push((await sender.http.data(SendMessageDocument, { roomId: room.id, body })).sendMessage);
    }
    assert.deepEqual(sent.map((m) => [m.seq, m.body, m.author.username]), [
      [2, 'one', alice.username],
      [3, 'two', bob.username],
      [4, 'three', alice.username],
    ]);
    assert.equal(sent[2]!.room.lastSeq, 4);
    assert.equal((await alice.http.data(RoomDocument, { id: room.id })).room?.lastSeq, 4);
    // Another room has its own sequence.
    const other = await createRoom(alice);
    assert.equal((await alice.http.data(SendMessageDocument, { roomId: other.id, body: 'x' })).sendMessage.seq, 1);
  });

  it('gives 20 parallel sends into one room 20 distinct, contiguous seqs', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const sends = Array.from({ length: 20 }, (_, i) =>
      (i % 2 ? alice : bob).http.data(SendMessageDocument, { roomId: room.id, body: `parallel ${i}` }),
    );
    const seqs = (await Promise.all(sends)).map((r) => r.sendMessage.seq).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: 20 }, (_, i) => i + 2)); // seq 1 is bob's join
    const rows = await server.sql<{ seq: number }>('SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq', [room.id]);
    assert.deepEqual(rows.map((r) => r.seq), seqs);
    assert.equal((await alice.http.data(RoomDocument, { id: room.id })).room?.lastSeq, 21);
  });

  it('trims the body and enforces 1 to MESSAGE_MAX_LENGTH characters, saying why', async () => {
    const room = await createRoom(alice);
    assert.equal((await alice.http.data(SendMessageDocument, { roomId: room.id, body: '  hello \n' })).sendMessage.body, 'hello');
    const fifty = '😀'.repeat(50); // 50 characters, 200 bytes
    assert.equal((await alice.http.data(SendMessageDocument, { roomId: room.id, body: ` ${fifty} ` })).sendMessage.body, fifty);
    const empty = await alice.http.request(SendMessageDocument, { roomId: room.id, body: ' \t\n ' });
    assert.deepEqual(errorCodes(empty), ['BAD_USER_INPUT']);
    assert.equal(empty.errors?.[0]?.message, 'Message body must not be empty');
    const long = await alice.http.request(SendMessageDocument, { roomId: room.id, body: 'x'.repeat(51) });
    assert.deepEqual(errorCodes(long), ['BAD_USER_INPUT']);
    assert.equal(long.errors?.[0]?.message, 'Message body is 51 characters; the maximum is 50');
    // Nothing was stored for the refused sends and no seq was used up.
    assert.equal((await alice.http.data(RoomDocument, { id: room.id })).room?.lastSeq, 2);
  });

  it('refuses a non-member of a public room with FORBIDDEN and an anonymous caller with UNAUTHENTICATED', async () => {
    const room = await createRoom(alice);
    const forbidden = await bob.http.request(SendMessageDocument, { roomId: room.id, body: 'hi' });
    assert.deepEqual(errorCodes(forbidden), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(await bob.http.request(MessagesDocument, { roomId: room.id })), ['FORBIDDEN']);
    const anonymous = await new HttpClient(server.url).request(SendMessageDocument, { roomId: room.id, body: 'hi' });
    assert.deepEqual(errorCodes(anonymous), ['UNAUTHENTICATED']);
    const [{ count }] = (await server.sql<{ count: string }>('SELECT count(*) FROM messages WHERE room_id = $1', [room.id])) as [{ count: string }];
    assert.equal(count, '0');
  });

  it('makes a retried send with the same clientMessageId return the original message and store nothing', async () => {
    const room = await createRoom(alice);
    const first = (await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'once', clientMessageId: 'c-1' })).sendMessage;
    const retry = (await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'once', clientMessageId: 'c-1' })).sendMessage;
    assert.deepEqual(retry, first);
    assert.equal(first.clientMessageId, 'c-1');
    // The id is per author: bob may use the same one.
    await bob.http.data(JoinRoomDocument, { roomId: room.id });
    const bobs = (await bob.http.data(SendMessageDocument, { roomId: room.id, body: 'mine', clientMessageId: 'c-1' })).sendMessage;
    assert.notEqual(bobs.id, first.id);
    assert.equal(bobs.seq, 3); // 1: alice's message, 2: bob's join
    assert.equal((await alice.http.data(RoomDocument, { id: room.id })).room?.lastSeq, 3);
  });

  it('stores one message when ten retries with the same clientMessageId race, and wastes no seq', async () => {
    const room = await createRoom(alice);
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => alice.http.data(SendMessageDocument, { roomId: room.id, body: 'racing', clientMessageId: 'race-1' })),
    );
    const ids = new Set(responses.map((r) => r.sendMessage.id));
    assert.equal(ids.size, 1);
    assert.deepEqual(new Set(responses.map((r) => r.sendMessage.seq)), new Set([1]));
    const rows = await server.sql('SELECT id FROM messages WHERE room_id = $1', [room.id]);
    assert.equal(rows.length, 1);
    const next = (await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'after the race' })).sendMessage;
    assert.equal(next.seq, 2);
  });

  it('rejects a clientMessageId over 64 characters, an empty one, and one reused in another room', async () => {
    const room = await createRoom(alice);
    const other = await createRoom(alice);
    for (const clientMessageId of ['x'.repeat(65), '']) {
      const response = await alice.http.request(SendMessageDocument, { roomId: room.id, body: 'hi', clientMessageId });
      assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
      assert.equal(response.errors?.[0]?.extensions?.['argumentName'], 'clientMessageId');
    }
    assert.equal(
      (await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'hi', clientMessageId: 'y'.repeat(64) })).sendMessage.seq,
      1,
    );
    const reused = await alice.http.request(SendMessageDocument, { roomId: other.id, body: 'hi', clientMessageId: 'y'.repeat(64) });
    assert.deepEqual(errorCodes(reused), ['BAD_USER_INPUT']);
    assert.match(reused.errors?.[0]?.message ?? '', /another room/);
  });
});
