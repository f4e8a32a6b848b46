import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateRoomDocument, SendMessageDocument, SignInDocument, SignUpDocument } from './__generated__/graphql.js';
import { PASSWORD, createRoom, signUp, type TestUser } from './helpers/fixtures.js';
import { HttpClient, errorCodes, type GraphQLResponse } from './helpers/http-client.js';
import { RawGraphQLWs } from './helpers/raw-graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** The limits as deployed: RATE_LIMITS on, every limit at its default. */
const DEFAULTS = { RATE_LIMITS: 'on' };

/** RATE_LIMITED with a retryAfter in (0, max] seconds. */
function assertLimited(response: GraphQLResponse<unknown>, maxSeconds: number): void {
  assert.deepEqual(errorCodes(response), ['RATE_LIMITED'], JSON.stringify(response.errors));
  const retryAfter = response.errors![0]!.extensions!['retryAfter'] as number;
  assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= maxSeconds, `retryAfter ${retryAfter}`);
}

describe('rate limits: sign-in', () => {
  let server: TestServer;
  let anonymous: HttpClient;
  before(async () => {
    server = await startTestServer(DEFAULTS);
    anonymous = new HttpClient(server.url);
  });
  after(() => server.stop());

  it('locks a username for this address after 10 consecutive failures, even for the right password, for 15 minutes', async () => {
    const victim = await signUp(server);
    for (let i = 0; i < 10; i++) {
      const attempt = await anonymous.request(SignInDocument, { username: victim.username, password: `guess ${i}` });
      assert.deepEqual(errorCodes(attempt), ['UNAUTHENTICATED']);
    }
    assertLimited(await anonymous.request(SignInDocument, { username: victim.username.toUpperCase(), password: PASSWORD }), 900);
    // Other usernames from the same address are not locked.
    const other = await signUp(server);
    assert.equal(errorCodes(await anonymous.request(SignInDocument, { username: other.username, password: PASSWORD })).length, 0);
  });

  it('clears the failures of a pair on a successful sign-in', async () => {
    const user = await signUp(server);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 9; i++) await anonymous.request(SignInDocument, { username: user.username, password: 'wrong' });
      assert.equal(errorCodes(await anonymous.request(SignInDocument, { username: user.username, password: PASSWORD })).length, 0);
    }
  });

  it('limits sign-in attempts per address to 100 per 15 minutes, whatever the usernames', async () => {
    const fresh = await startTestServer(DEFAULTS);
    try {
      const client = new HttpClient(fresh.url);
      for (let i = 0; i < 100; i++) {
        const attempt = await client.request(SignInDocument, { username: `nobody_${i}`, password: 'irrelevant password' });
        assert.deepEqual(errorCodes(attempt), ['UNAUTHENTICATED'], `attempt ${i}`);
      }
      assertLimited(await client.request(SignInDocument, { username: 'nobody_else', password: 'irrelevant password' }), 900);
    } finally {
      await fresh.stop();
    }
  });
});

describe('rate limits: sending, signing up and creating rooms', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    server = await startTestServer(DEFAULTS);
    [alice, bob] = [await signUp(server), await signUp(server)];
  });
  after(() => server.stop());

  it('lets a user send 20 per 10 s plus a burst of 5, then answers RATE_LIMITED on both transports while others send on', async () => {
    const room = await createRoom(alice);
    const bobsRoom = await createRoom(bob);
    const results = [];
    for (let i = 0; i < 25; i++) results.push(await alice.http.request(SendMessageDocument, { roomId: room.id, body: `flood ${i}` }));
    assert.ok(results.every((r) => !r.errors), JSON.stringify(results.find((r) => r.errors)?.errors));
    assertLimited(await alice.http.request(SendMessageDocument, { roomId: room.id, body: 'one too many' }), 30);

    const socket = new RawGraphQLWs(server.wsUrl);
    try {
      await socket.init({ authorization: `Bearer ${alice.token}` });
      socket.subscribe('send', 'mutation ($r: ID!) { sendMessage(roomId: $r, body: "over the socket") { id } }', { r: room.id });
      const frame = JSON.parse(await socket.queue('send').take(5000, 'the refusal')) as { payload: GraphQLResponse<unknown> };
      assertLimited(frame.payload, 30);
    } finally {
      socket.close();
    }
    assert.equal(errorCodes(await bob.http.request(SendMessageDocument, { roomId: bobsRoom.id, body: 'unaffected' })).length, 0);
    const stored = await server.sql<{ count: string }>('SELECT count(*) FROM messages WHERE room_id = $1', [room.id]);
    assert.equal(Number(stored[0]!.count), 25);
  });

  it('limits accounts created from one address to 10 per hour', async () => {
    // Two accounts were created in `before`.
    const anonymous = new HttpClient(server.url);
    for (let i = 0; i < 8; i++) {
      const created = await anonymous.request(SignUpDocument, { username: `limit_${randomUUID().slice(0, 8)}`, password: 'long enough password' });
      assert.equal(errorCodes(created).length, 0, `sign-up ${i}`);
    }
    assertLimited(await anonymous.request(SignUpDocument, { username: `limit_${randomUUID().slice(0, 8)}`, password: 'long enough password' }), 3600);
  });

  it('limits rooms created from one address to 30 per hour', async () => {
    // Two rooms were created by the sending test.
    for (let i = 0; i < 28; i++) assert.equal(errorCodes(await alice.http.request(CreateRoomDocument, { name: `room ${i}`, kind: 'PUBLIC' })).length, 0);
    assertLimited(await bob.http.request(CreateRoomDocument, { name: 'one too many', kind: 'PUBLIC' }), 3600);
  });
});

describe('rate limits in Redis (REDIS_URL), shared by every process', () => {
  const env = { ...DEFAULTS, REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', RATE_LIMIT_KEY_PREFIX: `parley-test-${randomUUID()}` };
  let first: TestServer;
  let second: TestServer;
  before(async () => {
    // Two servers sharing one Redis, as the processes of one deployment would.
    first = await startTestServer(env);
    second = await startTestServer(env);
  });
  after(async () => {
    await first.stop();
    await second.stop();
  });

  it('counts sign-ups from one address through either server against one limit', async () => {
    const servers = [first, second];
    const attempt = (index: number) =>
      new HttpClient(servers[index % 2]!.url).request(SignUpDocument, { username: `shared_${randomUUID().slice(0, 8)}`, password: PASSWORD });
    for (let i = 0; i < 10; i++) assert.equal(errorCodes(await attempt(i)).length, 0, `sign-up ${i}`);
    assertLimited(await attempt(10), 3600);
    assertLimited(await attempt(11), 3600);
  });
});

describe('rate limits: the client address behind a proxy (TRUST_PROXY)', () => {
  const signUpFrom = (server: TestServer, forwardedFor: string) =>
    fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ query: `mutation { signUp(username: "proxy_${randomUUID().slice(0, 8)}", password: "${PASSWORD}") { token } }` }),
    }).then(async (response) => errorCodes((await response.json()) as GraphQLResponse<unknown>));

  it('counts each forwarded client apart when the proxy is trusted', async () => {
    const server = await startTestServer({ ...DEFAULTS, TRUST_PROXY: 'loopback' });
    try {
      for (let i = 0; i < 10; i++) assert.deepEqual(await signUpFrom(server, '203.0.113.7'), [], `sign-up ${i}`);
      assert.deepEqual(await signUpFrom(server, '203.0.113.7'), ['RATE_LIMITED']);
      assert.deepEqual(await signUpFrom(server, '198.51.100.9'), []); // another client behind the same proxy
    } finally {
      await server.stop();
    }
  });

  it('ignores X-Forwarded-For from an untrusted peer, so a client cannot choose its own address', async () => {
    const server = await startTestServer(DEFAULTS);
    try {
      for (let i = 0; i < 10; i++) assert.deepEqual(await signUpFrom(server, `203.0.113.${i}`), [], `sign-up ${i}`);
      assert.deepEqual(await signUpFrom(server, '203.0.113.99'), ['RATE_LIMITED']);
    } finally {
      await server.stop();
    }
  });
});
