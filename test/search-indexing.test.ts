// The search index is filled after the send (README "Search"): by the search indexer, or by the first search of the
// message's room, whichever comes first. A search still finds every message acknowledged before it was issued.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageDocument,
  EditMessageDocument,
  SearchMessagesDocument,
  SendMessageDocument,
} from './__generated__/graphql.js';
import { createRoom, roomWithMembers, signUp, uniqueName, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** A word no other test's messages hold. */
const uniqueWord = (prefix: string) => uniqueName(prefix).replace(/_/g, '');

async function searchIds(user: TestUser, query: string, roomId?: string): Promise<string[]> {
  const { searchMessages } = await user.http.data(SearchMessagesDocument, { query, first: 50, ...(roomId ? { roomId } : {}) });
  return searchMessages.edges.map((edge) => edge.node.id);
}

async function send(user: TestUser, roomId: string, body: string): Promise<string> {
  return (await user.http.data(SendMessageDocument, { roomId, body })).sendMessage.id;
}

/** Messages of `roomId` (every room when absent) still to index. */
async function pending(server: TestServer, roomId?: string): Promise<number> {
  const [row] = await server.sql<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE search_vector IS NULL AND deleted_at IS NULL AND ($1::uuid IS NULL OR room_id = $1)`,
    [roomId ?? null],
  );
  return row!.n;
}

/** Waits (bounded) until nothing is left to index: the state the background indexer must reach on its own. */
async function untilIndexed(server: TestServer, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left: number;
  while ((left = await pending(server)) > 0) {
    if (Date.now() > deadline) throw new Error(`${left} messages still unindexed after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // polls the database's state
  }
}

describe('search indexing, with the background indexer not running', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ SEARCH_INDEX_DELAY: '1h', SEARCH_INDEX_INTERVAL: '1h' });
  });
  after(() => server.stop());

  it('sends store no vector, and a search issued right after a send finds it (it indexes its rooms first)', async () => {
    const word = uniqueWord('fresh');
    const alice = await signUp(server);
    const bob = await signUp(server);
    const room = await roomWithMembers(alice, [bob]);
    const other = await createRoom(alice);
    const id = await send(alice, room.id, `a ${word} message`);
    const elsewhere = await send(alice, other.id, `${word} in another room`);
    assert.equal(await pending(server, room.id), 1, 'the send wrote no vector');
    assert.deepEqual(await searchIds(bob, word), [id], 'found by another member right after the send');
    assert.equal(await pending(server, room.id), 0, 'the search indexed its rooms');
    assert.equal(await pending(server, other.id), 1, 'and only its rooms: bob is not in the other room');
    assert.deepEqual(await searchIds(alice, word, room.id), [id], 'roomId narrows the search');
    assert.equal(await pending(server, other.id), 1, 'and what it indexes');
    assert.deepEqual((await searchIds(alice, word)).sort(), [id, elsewhere].sort());
    assert.equal(await pending(server), 0);
  });

  it('indexes an edit in its own transaction: found at once by the new text, never by the old', async () => {
    const [oldWord, newWord, neverWord, laterWord] = ['orig', 'repl', 'never', 'later'].map(uniqueWord) as [string, string, string, string];
    const alice = await signUp(server);
    const room = await createRoom(alice);
    const indexed = await send(alice, room.id, `the ${oldWord} text`);
    assert.deepEqual(await searchIds(alice, oldWord), [indexed]);
    await alice.http.data(EditMessageDocument, { messageId: indexed, body: `the ${newWord} text` });
    assert.deepEqual(await searchIds(alice, oldWord), [], 'the old text no longer matches');
    assert.deepEqual(await searchIds(alice, newWord), [indexed]);

    // Edited before anything indexed it: the edit itself sets the vector.
    const unindexed = await send(alice, room.id, `the ${neverWord} text`);
    await alice.http.data(EditMessageDocument, { messageId: unindexed, body: `the ${laterWord} text` });
    assert.equal(await pending(server, room.id), 0, 'the edit indexed it');
    assert.deepEqual(await searchIds(alice, neverWord), []);
    assert.deepEqual(await searchIds(alice, laterWord), [unindexed]);
  });

  it('never matches deleted messages, indexed or not, and keeps no vector of their text', async () => {
    const word = uniqueWord('gone');
    const alice = await signUp(server);
    const room = await createRoom(alice);
    const indexed = await send(alice, room.id, `${word} one`);
    assert.deepEqual(await searchIds(alice, word), [indexed]);
    const unindexed = await send(alice, room.id, `${word} two`);
    await alice.http.data(DeleteMessageDocument, { messageId: unindexed });
    assert.equal(await pending(server, room.id), 0, 'a deleted message is not pending');
    await alice.http.data(DeleteMessageDocument, { messageId: indexed });
    assert.deepEqual(await searchIds(alice, word), []);
    const rows = await server.sql<{ vector: string | null }>(`SELECT search_vector::text AS vector FROM messages WHERE room_id = $1`, [room.id]);
    assert.deepEqual(rows, [{ vector: null }, { vector: null }], 'nothing of the deleted text stays in the index');
  });

  it('sends racing searches over the same rooms: no deadlock, and every search finds every send acknowledged before it', async () => {
    await raceSendsAndSearches(server);
  });
});

describe('search indexing, with the background indexer running', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ SEARCH_INDEX_DELAY: '0ms', SEARCH_INDEX_INTERVAL: '1h' });
  });
  after(() => server.stop());

  it('indexes new messages shortly after their sends', async () => {
    const alice = await signUp(server);
    const room = await createRoom(alice);
    for (let i = 0; i < 20; i++) await send(alice, room.id, `backlog ${i}`);
    await untilIndexed(server);
  });

  it('sends racing searches and the indexer over the same rooms: no deadlock, and every search finds every send acknowledged before it', async () => {
    await raceSendsAndSearches(server);
    await untilIndexed(server);
  });
});

describe('search indexing, periodic runs', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ SEARCH_INDEX_DELAY: '1h', SEARCH_INDEX_INTERVAL: '100ms' });
  });
  after(() => server.stop());

  it('indexes messages no send of this process announced (another process stored them), several batches', async () => {
    const alice = await signUp(server);
    const room = await createRoom(alice);
    await send(alice, room.id, 'first');
    // 1,200 rows stored behind this server's back, as another process would: more than two batches of 500.
    await server.sql(
      `INSERT INTO messages (room_id, author_id, seq, body) SELECT $1, $2, 1000 + g, 'bulk ' || g FROM generate_series(1, 1200) g`,
      [room.id, alice.id],
    );
    await untilIndexed(server);
    const [row] = await server.sql<{ n: number }>(`SELECT count(*)::int AS n FROM messages WHERE room_id = $1 AND search_vector @@ 'bulk'::tsquery`, [room.id]);
    assert.equal(row!.n, 1200);
  });
});

/**
 * Six members of three shared rooms each send ten messages (round robin over the rooms) carrying a word of their
 * own, while six others search those words in a loop; each search must return every message of that word whose
 * send was acknowledged before the search was issued. A deadlock or lock failure fails a request, and the test.
 */
async function raceSendsAndSearches(server: TestServer): Promise<void> {
  const owner = await signUp(server);
  const senders = await Promise.all(Array.from({ length: 6 }, () => signUp(server)));
  const searchers = await Promise.all(Array.from({ length: 6 }, () => signUp(server)));
  const rooms: { id: string }[] = [];
  for (let i = 0; i < 3; i++) rooms.push(await roomWithMembers(owner, [...senders, ...searchers]));
  const words = senders.map(() => uniqueWord('race'));
  const acknowledged: string[][] = senders.map(() => []);
  let sending = true;
  let searches = 0;
  const sends = senders.map(async (sender, s) => {
    for (let i = 0; i < 10; i++) acknowledged[s]!.push(await send(sender, rooms[(s + i) % rooms.length]!.id, `${words[s]} number ${i}`));
  });
  const searching = searchers.map(async (searcher, k) => {
    for (let i = 0; sending || i < 2; i++) {
      const s = (k + i) % senders.length;
      const before = [...acknowledged[s]!];
      const found = new Set(await searchIds(searcher, words[s]!));
      for (const id of before) assert.ok(found.has(id), `a search for ${words[s]} missed ${id}, acknowledged before it was issued`);
      searches++;
    }
  });
  await Promise.all(sends).finally(() => (sending = false));
  await Promise.all(searching);
  assert.ok(searches >= 12, `${searches} searches`);
  for (const [s, word] of words.entries()) assert.deepEqual(new Set(await searchIds(owner, word)), new Set(acknowledged[s]));
}
