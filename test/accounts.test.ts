import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { MeDocument, SignInDocument, SignUpDocument } from './__generated__/graphql.js';
import { PASSWORD, signUp, uniqueName } from './helpers/fixtures.js';
import { HttpClient, dataOf, errorCodes, postGraphQL } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('accounts', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  it('signs up, signs in with the username in any case, and the token identifies the user', async () => {
    const username = uniqueName('Alice');
    const up = dataOf(await postGraphQL(server.url, SignUpDocument, { username, password: PASSWORD })).signUp;
    assert.equal(up.user.username, username);
    assert.ok(new Date(up.expiresAt).getTime() > Date.now() + 23 * 3600_000);

    const claims = decodeJwt(up.token);
    assert.equal(decodeProtectedHeader(up.token).alg, 'HS256');
    assert.equal(claims.sub, up.user.id);
    assert.equal(claims.iss, 'parley');
    assert.equal(claims.aud, 'parley');
    assert.equal(claims.exp, new Date(up.expiresAt).getTime() / 1000);

    const inn = dataOf(await postGraphQL(server.url, SignInDocument, { username: username.toUpperCase(), password: PASSWORD })).signIn;
    assert.equal(inn.user.id, up.user.id);
    const me = await new HttpClient(server.url, inn.token).data(MeDocument, {});
    assert.deepEqual(me.me, { id: up.user.id, username });
  });

  it('stores an argon2id hash with the OWASP parameters, never the password', async () => {
    const user = await signUp(server);
    const [row] = await server.sql<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    assert.match(row!.password_hash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    assert.ok(!row!.password_hash.includes(PASSWORD));
  });

  it('gives the same UNAUTHENTICATED error for an unknown user and a wrong password, in about the same time', async () => {
    const user = await signUp(server);
    const timed = async (username: string, password: string) => {
      const started = performance.now();
      const response = await postGraphQL(server.url, SignInDocument, { username, password });
      return { response, ms: performance.now() - started };
    };
    await timed(user.username, 'warm-up-password'); // first argon2 call pays for allocation
    const unknown = await timed(uniqueName('nobody'), PASSWORD);
    const wrong = await timed(user.username, 'wrong password!');
    assert.deepEqual(unknown.response.errors?.map((e) => [e.message, e.extensions?.['code']]), [
      ['Invalid username or password', 'UNAUTHENTICATED'],
    ]);
    assert.deepEqual(
      wrong.response.errors?.map((e) => [e.message, e.extensions?.['code']]),
      unknown.response.errors?.map((e) => [e.message, e.extensions?.['code']]),
    );
    // Both paths run one argon2id verification (~20-60 ms here); without the decoy the unknown user returns in ~1 ms.
    assert.ok(unknown.ms > 0.3 * wrong.ms, `unknown user ${unknown.ms.toFixed(1)} ms vs wrong password ${wrong.ms.toFixed(1)} ms`);
  });

  it('refuses a username that differs only in letter case', async () => {
    const username = uniqueName('Bob');
    await signUp(server, username);
    const response = await postGraphQL(server.url, SignUpDocument, { username: username.toUpperCase(), password: PASSWORD });
    assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
    assert.equal(response.errors?.[0]?.message, 'Username is already taken');
  });

  it('refuses two racing sign-ups of the same name, keeping exactly one account', async () => {
    const username = uniqueName('race');
    const responses = await Promise.all(
      [username, username.toUpperCase(), username].map((name) => postGraphQL(server.url, SignUpDocument, { username: name, password: PASSWORD })),
    );
    assert.equal(responses.filter((r) => r.data?.signUp).length, 1);
    assert.deepEqual(responses.flatMap(errorCodes), ['BAD_USER_INPUT', 'BAD_USER_INPUT']);
    const rows = await server.sql('SELECT 1 FROM users WHERE lower(username) = lower($1)', [username]);
    assert.equal(rows.length, 1);
  });

  for (const [label, username, password, argumentName] of [
    ['a username of 2 characters', 'ab', PASSWORD, 'username'],
    ['a username of 33 characters', 'a'.repeat(33), PASSWORD, 'username'],
    ['a username with a space', 'has space', PASSWORD, 'username'],
    ['a username with a non-ASCII letter', 'zoë_1', PASSWORD, 'username'],
    ['a password of 7 characters', 'valid_name', '1234567', 'password'],
    ['a password of 129 characters', 'valid_name', 'p'.repeat(129), 'password'],
  ] as const) {
    it(`rejects ${label} with BAD_USER_INPUT saying why`, async () => {
      const response = await postGraphQL(server.url, SignUpDocument, { username, password });
      assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
      assert.equal(response.errors?.[0]?.extensions?.['argumentName'], argumentName);
      assert.match(response.errors?.[0]?.message ?? '', argumentName === 'username' ? /Username must be 3 to 32/ : /Password must be 8 to 128/);
    });
  }

  it('accepts the boundary lengths: 3 and 32 character usernames, 8 and 128 character passwords', async () => {
    const short = `a${uniqueName('').slice(1, 3)}`;
    for (const [username, password] of [
      [short, 'p'.repeat(8)],
      [`${uniqueName('x')}${'y'.repeat(32)}`.slice(0, 32), 'p'.repeat(128)],
    ] as const) {
      const response = await postGraphQL(server.url, SignUpDocument, { username, password });
      assert.equal(response.data?.signUp.user.username, username, JSON.stringify(response.errors));
    }
  });

  it('answers `me` without a token with UNAUTHENTICATED, and with a bad token saying it is invalid', async () => {
    const anonymous = await postGraphQL(server.url, MeDocument, {});
    assert.deepEqual(errorCodes(anonymous), ['UNAUTHENTICATED']);
    assert.equal(anonymous.errors?.[0]?.message, 'You must be signed in');

    const forged = await postGraphQL(server.url, MeDocument, {}, 'not.a.jwt');
    assert.deepEqual(errorCodes(forged), ['UNAUTHENTICATED']);
    assert.equal(forged.errors?.[0]?.message, 'Invalid token');
  });

  it('refuses a token signed with another secret and one with alg none', async () => {
    const user = await signUp(server);
    const { SignJWT, UnsecuredJWT } = await import('jose');
    const otherKey = new TextEncoder().encode('another-secret-another-secret-another');
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: user.id, iss: 'parley', aud: 'parley' };
    const foreign = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(now + 60).sign(otherKey);
    const unsigned = new UnsecuredJWT(claims).setExpirationTime(now + 60).encode();
    for (const token of [foreign, unsigned]) {
      const response = await postGraphQL(server.url, MeDocument, {}, token);
      assert.equal(response.errors?.[0]?.message, 'Invalid token');
    }
  });

  it('keeps signUp and signIn open to anonymous callers even with a stale token header', async () => {
    const username = uniqueName('stale');
    const response = await postGraphQL(server.url, SignUpDocument, { username, password: PASSWORD }, 'expired.or.garbage');
    assert.equal(response.data?.signUp.user.username, username);
  });
});

describe('token lifetime and claims', () => {
  const secret = 'a-test-secret-of-at-least-32-characters';
  const key = new TextEncoder().encode(secret);
  let server: TestServer;
  before(async () => (server = await startTestServer({ JWT_TTL: '90s', JWT_SECRET: secret })));
  after(() => server.stop());

  it('issues tokens that expire after JWT_TTL', async () => {
    const user = await signUp(server);
    const exp = decodeJwt(user.token).exp! * 1000;
    assert.ok(Math.abs(exp - (Date.now() + 90_000)) < 5000, `exp ${new Date(exp).toISOString()}`);
  });

  it('refuses a correctly signed token that expired, or lacks exp, or names another issuer or audience', async () => {
    const user = await signUp(server);
    const { SignJWT } = await import('jose');
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, exp?: number) => {
      const jwt = new SignJWT({ iss: 'parley', aud: 'parley', sub: user.id, ...claims }).setProtectedHeader({ alg: 'HS256' });
      return (exp === undefined ? jwt : jwt.setExpirationTime(exp)).sign(key);
    };
    const cases: [string, string][] = [
      [await sign({}, now - 10), 'Token expired'],
      [await sign({}), 'Invalid token'],
      [await sign({ iss: 'someone-else' }, now + 60), 'Invalid token'],
      [await sign({ aud: 'someone-else' }, now + 60), 'Invalid token'],
    ];
    for (const [token, message] of cases) {
      const response = await postGraphQL(server.url, MeDocument, {}, token);
      assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);
      assert.equal(response.errors?.[0]?.message, message);
    }
    // The same construction with a valid exp is accepted, so the refusals above are about the claims.
    const good = await sign({}, now + 60);
    assert.equal(dataOf(await postGraphQL(server.url, MeDocument, {}, good)).me.id, user.id);
  });
});
