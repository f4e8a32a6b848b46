import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MessagesDocument, SendMessageDocument } from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { RawGraphQLWs } from './helpers/raw-graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('DataLoader batching', () => {
  let server: TestServer;
  let authors: TestUser[];
  let roomId: string;

  before(async () => {
    server = await startTestServer();
    authors = [];
    for (let i = 0; i < 10; i++) authors.push(await signUp(server));
    roomId = (await roomWithMembers(authors[0]!, authors.slice(1))).id;
    for (let i = 0; i < 100; i++) {
      await authors[i % 10]!.http.data(SendMessageDocument, { roomId, body: `message ${i}` });
    }
  });
  after(() => server.stop());

  /** SQL statements the server sends to answer one history page with authors and rooms. */
  async function statementsFor(last: number): Promise<string[]> {
    const from = server.sqlStatements.length;
    const page = await authors[0]!.http.data(MessagesDocument, { roomId, last });
    assert.equal(page.messages.edges.length, last);
    assert.equal(new Set(page.messages.edges.map((e) => e.node.author.id)).size, Math.min(10, last));
    return server.sqlStatements.slice(from);
  }

  it('reads 100 messages by 10 authors in a small fixed number of statements, the same as for 10 messages', async () => {
    await statementsFor(1); // the token's user is looked up once, then remembered
    const hundred = await statementsFor(100);
    const ten = await statementsFor(10);
    // room access, the page, then one batch each for authors and rooms
    assert.equal(hundred.length, 4, hundred.join('\n'));
    assert.equal(ten.length, hundred.length);
    assert.equal(hundred.filter((sql) => /FROM "?users"?/.test(sql) && /ANY\(/.test(sql)).length, 1);
    assert.equal(hundred.filter((sql) => /FROM "rooms"/.test(sql) && /ANY\(/.test(sql)).length, 1);
  });

  it('checks the membership of subscriptions that start together in shared statements, reading no log for a fresh start', async () => {
    const subscriber = authors[1]!;
    const ws = new RawGraphQLWs(server.wsUrl);
    try {
      await ws.init({ authorization: `Bearer ${subscriber.token}` });
      const from = server.sqlStatements.length;
      const count = 20;
      const query = 'subscription ($roomId: ID!) { messageAdded(roomId: $roomId) { body } }';
      const streams = Array.from({ length: count }, (_, i) => ws.subscribe(`s${i}`, query, { roomId }));
      // A subscription has made its membership check once it delivers anything. A probe that commits before a
      // subscription has read the room's latest seq is not delivered to it (it starts after that seq), so probe
      // again until every stream has received one; streams that have are not waited for again.
      const waiting = new Set(streams);
      for (let attempt = 0; waiting.size > 0; attempt++) {
        assert.ok(attempt < 50, `${waiting.size} of ${count} subscriptions still silent after 50 probes`);
        await authors[0]!.http.data(SendMessageDocument, { roomId, body: `probe ${attempt}` });
        for (const stream of waiting) {
          let frame: string;
          try {
            frame = await stream.take(200, 'a probe');
          } catch {
            break; // not started yet: probe again
          }
          assert.match(frame, /"body":"probe \d+"/);
          waiting.delete(stream);
        }
      }
      const checks = server.sqlStatements.slice(from).filter((sql) => /unnest\(/.test(sql) && /room_memberships/.test(sql));
      assert.ok(checks.length < count, `${checks.length} membership statements for ${count} subscriptions`);
      assert.equal(server.sqlStatements.slice(from).filter((sql) => /FROM "room_events"/.test(sql)).length, 0, 'no log reads');
    } finally {
      ws.close();
    }
  });
});

