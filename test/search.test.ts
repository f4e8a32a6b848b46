import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageDocument,
  EditMessageDocument,
  JoinRoomDocument,
  LeaveRoomDocument,
  SearchMessagesDocument,
  SendMessageDocument,
  type SearchMessagesQuery,
} from './__generated__/graphql.js';
import { searchTokens } from '../src/domain/search-text.js';
import { createRoom, signUp, uniqueName, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

type Edge = SearchMessagesQuery['searchMessages']['edges'][number];

describe('searchMessages', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  /** A fresh user with a room of their own holding `bodies`, so that no other test's messages match. */
  async function userWithRoom(bodies: string[]) {
    const user = await signUp(server);
    const room = await createRoom(user);
    const ids: string[] = [];
    for (const body of bodies) ids.push((await user.http.data(SendMessageDocument, { roomId: room.id, body })).sendMessage.id);
    return { user, room, ids };
  }

  async function search(user: TestUser, query: string, extra: { roomId?: string; first?: number; after?: string | null } = {}): Promise<Edge[]> {
    return (await user.http.data(SearchMessagesDocument, { query, ...extra })).searchMessages.edges;
  }

  const bodies = (edges: Edge[]) => edges.map((edge) => edge.node.body).sort();

  it('matches English words whole, ignoring case, and the last word also as a prefix', async () => {
    const { user } = await userWithRoom(['We deploy on Friday', 'The deployment failed', 'deployed it, Fridays are fine', 'nothing to see']);
    assert.deepEqual(bodies(await search(user, 'DEPLOY')), ['The deployment failed', 'We deploy on Friday', 'deployed it, Fridays are fine'], 'the last word is a prefix');
    assert.deepEqual(bodies(await search(user, 'deploy fri')), ['We deploy on Friday'], 'earlier words match whole words only');
    assert.deepEqual(await search(user, 'friday deployed'), [], 'friday is a whole word: "Fridays" does not match it');
    assert.deepEqual(bodies(await search(user, 'fridays deployed')), ['deployed it, Fridays are fine'], 'every word must match, in any order');
    assert.deepEqual(await search(user, 'deploy-x'), [], 'nothing has deploy followed by a word starting with x');
    assert.deepEqual(bodies(await search(user, 'f')), [], 'a one-letter last word matches whole only');
  });

  it('finds Chinese by one and two characters inside longer text, and Japanese and Korean by substring', async () => {
    const { user } = await userWithRoom(['我们明天去北京开会', '東京で会議があります', '서울에서 만나요', '今天天气很好']);
    for (const query of ['北', '北京', '开会', '明天去']) {
      assert.deepEqual(bodies(await search(user, query)), ['我们明天去北京开会'], query);
    }
    assert.deepEqual(await search(user, '京北'), [], 'characters must be adjacent and in order');
    assert.deepEqual(bodies(await search(user, '京 北')), ['我们明天去北京开会'], 'separate terms need not be adjacent');
    assert.deepEqual(bodies(await search(user, '会議')), ['東京で会議があります']);
    assert.deepEqual(bodies(await search(user, '京')), ['我们明天去北京开会', '東京で会議があります']);
    assert.deepEqual(bodies(await search(user, '서울')), ['서울에서 만나요']);
    assert.deepEqual(bodies(await search(user, '天天')), ['今天天气很好']);
  });

  it('finds mixed Latin and CJK text by either part or both together', async () => {
    const { user } = await userWithRoom(['Parley支持中文搜索', 'parley is a chat server']);
    assert.deepEqual(bodies(await search(user, 'Parley')), ['Parley支持中文搜索', 'parley is a chat server']);
    assert.deepEqual(bodies(await search(user, '中文')), ['Parley支持中文搜索']);
    assert.deepEqual(bodies(await search(user, 'parley支持')), ['Parley支持中文搜索']);
  });

  it('wraps every match in « and »', async () => {
    const { user } = await userWithRoom(['Deploying tomorrow? DEPLOY it, Tom.', '我们明天去北京开会，北京见', 'Parley支持中文']);
    assert.deepEqual((await search(user, 'deploy to')).map((e) => e.highlight), ['Deploying «tomorrow»? «DEPLOY» it, «Tom».']);
    assert.deepEqual((await search(user, '北京')).map((e) => e.highlight), ['我们明天去«北京»开会，«北京»见']);
    assert.deepEqual((await search(user, 'parley支持')).map((e) => e.highlight), ['«Parley支持»中文']);
  });

  it('never finds deleted messages, and finds edited ones by their new text only', async () => {
    const { user, ids } = await userWithRoom(['secret plan alpha', 'first draft of the plan']);
    await user.http.data(DeleteMessageDocument, { messageId: ids[0]! });
    await user.http.data(EditMessageDocument, { messageId: ids[1]!, body: 'final version of the agenda' });
    assert.deepEqual(await search(user, 'secret'), []);
    assert.deepEqual(await search(user, 'draft'), [], 'the old text is gone from the index');
    assert.deepEqual((await search(user, 'agenda')).map((e) => e.node.id), [ids[1]]);
    assert.deepEqual(bodies(await search(user, 'plan')), [], 'neither the deleted nor the edited message');
  });

  it('searches only rooms the viewer is a member of now; roomId narrows to one room', async () => {
    const word = uniqueName('zebra').replace('_', '');
    const { user: owner, room } = await userWithRoom([`${word} in the shared room`]);
    const other = await createRoom(owner);
    await owner.http.data(SendMessageDocument, { roomId: other.id, body: `${word} in the second room` });
    const privateRoom = await createRoom(owner, 'PRIVATE');
    await owner.http.data(SendMessageDocument, { roomId: privateRoom.id, body: `${word} in private` });
    const bob = await signUp(server);
    assert.deepEqual(await search(bob, word), [], 'not a member of any of them');
    await bob.http.data(JoinRoomDocument, { roomId: room.id });
    assert.deepEqual(bodies(await search(bob, word)), [`${word} in the shared room`], 'history from before joining is found');
    assert.equal((await search(owner, word)).length, 3);
    assert.deepEqual(bodies(await search(owner, word, { roomId: other.id })), [`${word} in the second room`]);
    assert.deepEqual(errorCodes(await bob.http.request(SearchMessagesDocument, { query: word, roomId: other.id })), ['FORBIDDEN'], 'visible, not joined');
    assert.deepEqual(errorCodes(await bob.http.request(SearchMessagesDocument, { query: word, roomId: privateRoom.id })), ['NOT_FOUND'], 'not visible');
    assert.deepEqual(errorCodes(await bob.http.request(SearchMessagesDocument, { query: word, roomId: 'not-a-room' })), ['NOT_FOUND']);
    await bob.http.data(LeaveRoomDocument, { roomId: room.id });
    assert.deepEqual(await search(bob, word), [], 'after leaving');
    assert.deepEqual(errorCodes(await bob.http.request(SearchMessagesDocument, { query: word, roomId: room.id })), ['FORBIDDEN']);
  });

  it('orders by relevance, then newest, and pages without duplicates or gaps', async () => {
    const word = uniqueName('kiwi').replace('_', '');
    const texts: string[] = [];
    for (let i = 0; i < 23; i++) {
      // Three relevance levels: the word once in a long message, once in a short one, three times in a short one.
      texts.push(i % 3 === 0 ? `${word} ${i}` : i % 3 === 1 ? `${word} ${word} ${word} ${i}` : `${word} and many other words to dilute it ${i}`);
    }
    const { user } = await userWithRoom(texts);
    const all = await search(user, word, { first: 50 });
    assert.equal(all.length, 23);
    const level = (body: string) => (body.startsWith(`${word} ${word}`) ? 0 : body.includes('many') ? 2 : 1);
    const order = all.map((e) => e.node.body);
    const expected = [...texts].reverse().sort((a, b) => level(a) - level(b)); // stable: newest first within a level
    assert.deepEqual(order, expected, 'relevance first, then newest');
    const paged: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const { searchMessages: page }: SearchMessagesQuery = await user.http.data(SearchMessagesDocument, { query: word, first: 4, after: cursor });
      paged.push(...page.edges.map((e) => e.node.body));
      assert.equal(page.pageInfo.hasPreviousPage, cursor !== null);
      if (!page.pageInfo.hasNextPage) break;
      cursor = page.pageInfo.endCursor ?? null;
    }
    assert.deepEqual(paged, order, 'pages of 4 give the same list');
  });

  it('refuses blank and too long queries, bad page sizes and forged cursors', async () => {
    const { user } = await userWithRoom(['hello world']);
    for (const query of ['', '   ', 'x'.repeat(101)]) {
      assert.deepEqual(errorCodes(await user.http.request(SearchMessagesDocument, { query })), ['BAD_USER_INPUT'], JSON.stringify(query));
    }
    assert.deepEqual(errorCodes(await user.http.request(SearchMessagesDocument, { query: 'hello', first: 51 })), ['BAD_USER_INPUT']);
    const forged = [
      'garbage',
      Buffer.from(JSON.stringify(['searchMessages', 1, 'x', '00000000-0000-0000-0000-000000000000'])).toString('base64url'),
      Buffer.from(JSON.stringify(['users', 'a'])).toString('base64url'),
      Buffer.from(JSON.stringify(['searchMessages', 1, 2 ** 60, '00000000-0000-0000-0000-000000000000'])).toString('base64url'),
    ];
    for (const after of forged) {
      assert.deepEqual(errorCodes(await user.http.request(SearchMessagesDocument, { query: 'hello', after })), ['BAD_USER_INPUT'], after);
    }
    assert.deepEqual(bodies(await search(user, "hello' | !world & (x:*")), [], 'operators in a query are text');
    assert.deepEqual(bodies(await search(user, "hello:* world'")), ['hello world']);
    assert.deepEqual(await search(user, '!!! ...'), [], 'a query of punctuation only matches nothing');
  });

  it('tokenizes text exactly as the database indexes it', async () => {
    const samples = ['Hi, e-mail example.com v1.2 don’t', '我们明天去北京开会，Parley支持中文', 'カタカナ・テスト 東京 서울에서 만나요', 'naïve Ünïcode 𠀀x abc_def 3.14'];
    for (const text of samples) {
      const [row] = await server.sql<{ lexemes: string[] }>(
        `SELECT coalesce(array_agg(lexeme ORDER BY pos), '{}') AS lexemes
         FROM unnest(to_tsvector('simple', parley_search_text($1))) AS v, unnest(v.positions) AS pos`,
        [text],
      );
      assert.deepEqual(row!.lexemes, searchTokens(text).map((t) => t.lexeme), text);
    }
  });
});

describe('searchMessages rate limit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ RATE_LIMITS: 'on', RATE_LIMIT_SEARCH: '2/1m' });
  });
  after(() => server.stop());

  it('counts searches per user against RATE_LIMIT_SEARCH', async () => {
    const user = await signUp(server);
    for (let i = 0; i < 2; i++) await user.http.data(SearchMessagesDocument, { query: 'anything' });
    assert.deepEqual(errorCodes(await user.http.request(SearchMessagesDocument, { query: 'anything' })), ['RATE_LIMITED']);
  });
});
