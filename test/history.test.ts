import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MessagesDocument, SendMessageDocument, type MessagesQuery, type MessagesQueryVariables } from './__generated__/graphql.js';
import { createRoom, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const TOTAL = 250;

describe('message history', () => {
  let server: TestServer;
  let alice: TestUser;
  let roomId: string;
  const page = async (args: Omit<MessagesQueryVariables, 'roomId'>): Promise<MessagesQuery['messages']> =>
    (await alice.http.data(MessagesDocument, { roomId, ...args })).messages;
  const seqs = (connection: MessagesQuery['messages']) => connection.edges.map((e) => e.node.seq);
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  before(async () => {
    server = await startTestServer();
    alice = await signUp(server);
    roomId = (await createRoom(alice)).id;
    for (let i = 1; i <= TOTAL; i++) await alice.http.data(SendMessageDocument, { roomId, body: `message ${i}` });
  });
  after(() => server.stop());

  it('gives the newest 50 by default and for `last: 50`, oldest first', async () => {
    for (const connection of [await page({}), await page({ last: 50 })]) {
      assert.deepEqual(seqs(connection), range(201, 250));
      assert.equal(connection.pageInfo.hasPreviousPage, true);
      assert.equal(connection.pageInfo.hasNextPage, false);
    }
  });

  it('pages back with `before` through all 250 messages and ends with hasPreviousPage false', async () => {
    const seen: number[] = [];
    let before: string | null | undefined;
    let pages = 0;
    for (;;) {
      const connection = await page({ last: 40, before });
      pages++;
      seen.unshift(...seqs(connection));
      assert.equal(connection.pageInfo.hasNextPage, before != null);
      if (!connection.pageInfo.hasPreviousPage) break;
      before = connection.pageInfo.startCursor;
    }
    assert.equal(pages, 7);
    assert.deepEqual(seen, range(1, TOTAL));
  });

  it('pages forward with `first`/`after` through all 250 messages and ends with hasNextPage false', async () => {
    const seen: number[] = [];
    let after: string | null | undefined;
    for (;;) {
      const connection = await page({ first: 100, after });
      seen.push(...seqs(connection));
      assert.equal(connection.pageInfo.hasPreviousPage, after != null);
      after = connection.pageInfo.endCursor;
      if (!connection.pageInfo.hasNextPage) break;
    }
    assert.deepEqual(seen, range(1, TOTAL));
    const beyondTheEnd = await page({ first: 10, after });
    assert.deepEqual(seqs(beyondTheEnd), []);
    assert.deepEqual(beyondTheEnd.pageInfo, { hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
  });

  it('gives each message the same cursor in every page, equal to its edge cursor', async () => {
    const a = await page({ first: 30, after: (await page({ first: 10 })).pageInfo.endCursor });
    const b = await page({ last: 30, before: (await page({ first: 41 })).pageInfo.endCursor });
    assert.deepEqual(seqs(a), range(11, 40));
    assert.deepEqual(seqs(b), range(11, 40));
    assert.deepEqual(a.edges.map((e) => e.cursor), b.edges.map((e) => e.cursor));
    for (const edge of a.edges) assert.equal(edge.cursor, edge.node.cursor);
    assert.equal(a.pageInfo.startCursor, a.edges[0]?.cursor);
    assert.equal(a.pageInfo.endCursor, a.edges.at(-1)?.cursor);
  });

  it('reads a window between `after` and `before`', async () => {
    const after = (await page({ first: 100 })).edges[99]!.cursor; // seq 100
    const before = (await page({ first: 100, after })).edges[10]!.cursor; // seq 111
    assert.deepEqual(seqs(await page({ first: 50, after, before })), range(101, 110));
    assert.deepEqual(seqs(await page({ last: 5, after, before })), range(106, 110));
  });

  it('allows at most 100 per page and refuses more, negative sizes, and first with last', async () => {
    assert.equal((await page({ last: 100 })).edges.length, 100);
    assert.equal((await page({ first: 0 })).edges.length, 0);
    for (const args of [{ first: 101 }, { last: 1000 }, { first: -1 }, { first: 10, last: 10 }]) {
      const response = await alice.http.request(MessagesDocument, { roomId, ...args });
      assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT'], JSON.stringify(args));
    }
  });

  it('refuses a malformed cursor and a cursor of another room with BAD_USER_INPUT', async () => {
    const otherRoom = await createRoom(alice);
    const foreign = (await alice.http.data(SendMessageDocument, { roomId: otherRoom.id, body: 'x' })).sendMessage.cursor;
    for (const [after, message] of [
      ['garbage', 'after is not a valid cursor'],
      [Buffer.from('m1:x:-1').toString('base64url'), 'after is not a valid cursor'],
      [foreign, 'after is a cursor of another room'],
    ] as const) {
      const response = await alice.http.request(MessagesDocument, { roomId, after });
      assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
      assert.equal(response.errors?.[0]?.message, message);
    }
  });

  it('pages by keyset on (room_id, seq), never OFFSET', async () => {
    const before = server.sqlStatements.length;
    await page({ last: 20, before: (await page({})).pageInfo.startCursor });
    const statements = server.sqlStatements.slice(before).join('\n');
    assert.doesNotMatch(statements, /\bOFFSET\b/i);
    assert.match(statements, /"message"\."seq" < \$/);
  });
});
