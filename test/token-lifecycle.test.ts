import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { print } from 'graphql';
import { SignJWT } from 'jose';
import { AuthenticateDocument, MeDocument, RefreshTokenDocument, SendMessageDocument, SignOutDocument } from './__generated__/graphql.js';
import { createRoom, signUp, type TestUser } from './helpers/fixtures.js';
import { HttpClient, errorCodes } from './helpers/http-client.js';
import { ManualClock } from './helpers/manual-clock.js';
import { RawGraphQLWs } from './helpers/raw-graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const SECRET = randomBytes(32).toString('hex');
/** Lifetime of the tokens made here: long enough that jose, which checks `exp` by the real clock, accepts them. */
const LIFETIME_S = 600;

/** A token for `user` signed with `secret` (default the server's) that expires at `exp` (seconds since the epoch). */
function tokenExpiringAt(user: TestUser, exp: number, secret = SECRET): Promise<string> {
  return new SignJWT({ ver: 0 })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user.id)
    .setIssuer('parley')
    .setAudience('parley')
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));
}

/** How the server closed the socket; fails the test when it has not within 5 s. */
async function closeOf(socket: RawGraphQLWs): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the socket was not closed within 5 s')), 5000)));
  return Promise.race([socket.closed, timeout]).finally(() => clearTimeout(timer));
}

/** Runs an operation over the socket and returns its one `next` payload. */
async function overSocket(socket: RawGraphQLWs, id: string, document: Parameters<typeof print>[0], variables?: Record<string, unknown>) {
  socket.subscribe(id, print(document), variables);
  return (JSON.parse(await socket.queue(id).take(5000, id)) as { payload: { data?: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] } }).payload;
}

describe('the token lifecycle on open sockets', () => {
  // Socket sessions time token expiry by this clock: the tests move it instead of waiting.
  const clock = new ManualClock();
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    server = await startTestServer({ JWT_SECRET: SECRET }, { clock });
    [alice, bob] = [await signUp(server), await signUp(server)];
  });
  after(() => server.stop());

  /** A token of `user` that expires LIFETIME_S from the clock's now, and that expiry in ms. */
  async function expiringToken(user: TestUser): Promise<{ token: string; expiresAt: number }> {
    const exp = Math.floor(clock.now() / 1000) + LIFETIME_S;
    return { token: await tokenExpiringAt(user, exp), expiresAt: exp * 1000 };
  }

  it('closes a socket with 4403 "Token expired" when its token expires, and not a millisecond before', async () => {
    const { token, expiresAt } = await expiringToken(alice);
    const socket = new RawGraphQLWs(server.wsUrl);
    try {
      await socket.init({ authorization: `Bearer ${token}` });
      clock.advance(expiresAt - clock.now() - 1);
      // The close would have been sent inside `advance`, before this round trip's answer.
      const me = (await overSocket(socket, 'me', MeDocument)).data?.['me'] as { username: string } | undefined;
      assert.equal(me?.username, alice.username, 'open and served 1 ms before expiry');
      clock.advance(1);
      assert.deepEqual(await closeOf(socket), { code: 4403, reason: 'Token expired' });
    } finally {
      socket.close();
    }
  });

  it('keeps a socket and its subscriptions when authenticate swaps in a fresh token before expiry', async () => {
    const room = await createRoom(alice);
    const { token: first, expiresAt } = await expiringToken(alice);
    const socket = new RawGraphQLWs(server.wsUrl);
    const unrefreshed = new RawGraphQLWs(server.wsUrl); // the same token, never swapped: closes at its expiry
    try {
      await socket.init({ authorization: `Bearer ${first}` });
      await unrefreshed.init({ authorization: `Bearer ${first}` });
      const start = (await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'before' })).sendMessage;
      const messages = socket.subscribe('messages', `subscription ($r: ID!, $a: String) { messageAdded(roomId: $r, after: $a) { body } }`, { r: room.id, a: start.cursor });
      const refreshed = await overSocket(socket, 'refresh', RefreshTokenDocument);
      const { token, expiresAt: renewedUntil } = refreshed.data!['refreshToken'] as { token: string; expiresAt: string };
      assert.ok(new Date(renewedUntil).getTime() > expiresAt + 60_000, 'the fresh token outlives the first by more than the step below');
      const swapped = await overSocket(socket, 'authenticate', AuthenticateDocument, { token });
      assert.equal(swapped.data!['authenticate'], renewedUntil);
      // Past the first token's expiry: the socket that kept it closes, the swapped one stays open and delivers.
      clock.advance(expiresAt - clock.now() + 60_000);
      assert.deepEqual(await closeOf(unrefreshed), { code: 4403, reason: 'Token expired' });
      await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'after expiry' });
      assert.match(await messages.take(5000, 'after expiry'), /"body":"after expiry"/);
    } finally {
      socket.close();
      unrefreshed.close();
    }
  });

  it('refuses authenticate with another user’s token (FORBIDDEN), a bad one (UNAUTHENTICATED) and over HTTP (BAD_USER_INPUT)', async () => {
    const socket = new RawGraphQLWs(server.wsUrl);
    try {
      await socket.init({ authorization: `Bearer ${alice.token}` });
      assert.deepEqual((await overSocket(socket, 'other', AuthenticateDocument, { token: bob.token })).errors?.map((e) => e.extensions?.code), ['FORBIDDEN']);
      assert.deepEqual((await overSocket(socket, 'bad', AuthenticateDocument, { token: 'garbage' })).errors?.map((e) => e.extensions?.code), ['UNAUTHENTICATED']);
      assert.match(await socket.subscribe('still', '{ me { username } }').take(5000, 'me'), new RegExp(`"username":"${alice.username}"`));
    } finally {
      socket.close();
    }
    assert.deepEqual(errorCodes(await alice.http.request(AuthenticateDocument, { token: alice.token })), ['BAD_USER_INPUT']);
  });

  it('refreshes a token over HTTP', async () => {
    const { refreshToken } = await alice.http.data(RefreshTokenDocument, {});
    const me = await new HttpClient(server.url, refreshToken.token).data(MeDocument, {});
    assert.equal(me.me.username, alice.username);
  });

  it('signOut revokes every token of the user and closes the user’s sockets within a second; others stay', async () => {
    const carol = await signUp(server);
    const second = await new HttpClient(server.url, carol.token).data(RefreshTokenDocument, {});
    const sockets = [new RawGraphQLWs(server.wsUrl), new RawGraphQLWs(server.wsUrl)];
    await sockets[0]!.init({ authorization: `Bearer ${carol.token}` });
    await sockets[1]!.init({ authorization: `Bearer ${second.refreshToken.token}` });
    const bystander = new RawGraphQLWs(server.wsUrl);
    await bystander.init({ authorization: `Bearer ${bob.token}` });
    try {
      assert.equal(errorCodes(await carol.http.request(MeDocument, {})).length, 0); // the token is now cached
      const signedOut = Date.now();
      assert.equal((await carol.http.data(SignOutDocument, {})).signOut, true);
      for (const socket of sockets) assert.deepEqual(await closeOf(socket), { code: 4403, reason: 'Signed out' });
      assert.ok(Date.now() - signedOut < 1000);
      for (const token of [carol.token, second.refreshToken.token]) {
        assert.deepEqual(errorCodes(await new HttpClient(server.url, token).request(MeDocument, {})), ['UNAUTHENTICATED']);
      }
      const late = new RawGraphQLWs(server.wsUrl);
      await assert.rejects(late.init({ authorization: `Bearer ${carol.token}` }));
      assert.deepEqual(await closeOf(late), { code: 4403, reason: 'Signed out' });
      assert.match(await bystander.subscribe('me', '{ me { username } }').take(5000, 'me'), new RegExp(`"username":"${bob.username}"`));
    } finally {
      bystander.close();
    }
  });

  it('refuses a garbage, a badly signed, an expired and a signed-out token at connection_init with 4403 and the reason HTTP gives', async () => {
    const dave = await signUp(server);
    assert.equal((await dave.http.data(SignOutDocument, {})).signOut, true);
    const now = Math.floor(Date.now() / 1000); // jose checks `exp` by the real clock
    const refused: [string, string, string][] = [
      ['garbage', 'not.a.token', 'Invalid token'],
      ['another secret', await tokenExpiringAt(alice, now + LIFETIME_S, randomBytes(32).toString('hex')), 'Invalid token'],
      ['expired', await tokenExpiringAt(alice, now - 10), 'Token expired'],
      ['signed out', dave.token, 'Signed out'],
    ];
    for (const [name, token, reason] of refused) {
      const overHttp = await new HttpClient(server.url, token).request(MeDocument, {});
      assert.deepEqual(overHttp.errors?.map((e) => [e.extensions?.['code'], e.message]), [['UNAUTHENTICATED', reason]], name);
      const socket = new RawGraphQLWs(server.wsUrl);
      await assert.rejects(socket.init({ authorization: `Bearer ${token}` }), name);
      assert.deepEqual(await closeOf(socket), { code: 4403, reason }, name);
    }
  });
});
