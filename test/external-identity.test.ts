import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { MeDocument } from './__generated__/graphql.js';
import { signUp } from './helpers/fixtures.js';
import { HttpClient, errorCodes } from './helpers/http-client.js';
import { RawGraphQLWs } from './helpers/raw-graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ISSUER = 'https://id.example.test';
const AUDIENCE = 'parley-app';
const KID = 'test-key-1';

describe('tokens from the app’s own identity provider (JWKS)', () => {
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwks: http.Server;
  let server: TestServer;
  /** A provider token: RS256 by the provider's key unless told otherwise. */
  const providerToken = (subject: string, claims: JWTPayload = {}, options: { issuer?: string; audience?: string; expires?: string | number } = {}) =>
    new SignJWT({ preferred_username: 'ada lovelace', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: KID })
      .setSubject(subject)
      .setIssuer(options.issuer ?? ISSUER)
      .setAudience(options.audience ?? AUDIENCE)
      .setExpirationTime(options.expires ?? '5m')
      .sign(keys.privateKey);
  const me = (token: string) => new HttpClient(server.url, token).request(MeDocument, {});

  before(async () => {
    keys = await generateKeyPair('RS256');
    const publicJwk = { ...(await exportJWK(keys.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
    jwks = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] })));
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    server = await startTestServer({ JWT_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`, JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
  });
  after(async () => {
    await server.stop();
    await new Promise((resolve) => jwks.close(resolve));
  });

  it('creates the user on first sight from sub and the username claim, and finds the same user afterwards, on both transports', async () => {
    const token = await providerToken('user-123');
    const first = await me(token);
    assert.equal(first.data?.me.username, 'ada_lovelace');
    const again = await me(await providerToken('user-123'));
    assert.equal(again.data?.me.id, first.data?.me.id);
    const socket = new RawGraphQLWs(server.wsUrl);
    try {
      await socket.init({ authorization: `Bearer ${token}` });
      assert.match(await socket.subscribe('me', '{ me { id } }').take(5000, 'me'), new RegExp(first.data!.me.id));
    } finally {
      socket.close();
    }
  });

  it('gives another subject with the same username claim its own user with a distinct name', async () => {
    const other = await me(await providerToken('user-456'));
    assert.match(other.data!.me.username, /^ada_lovelace_[0-9a-f]{8}$/);
  });

  it('refuses wrong issuer or audience, expiry, alg none, HS/RS confusion and a key it does not know', async () => {
    const publicPem = await exportSPKI(keys.publicKey);
    const now = Math.floor(Date.now() / 1000);
    const stranger = await generateKeyPair('RS256');
    const refused = {
      issuer: await providerToken('user-123', {}, { issuer: 'https://evil.example.test' }),
      audience: await providerToken('user-123', {}, { audience: 'someone-else' }),
      expired: await providerToken('user-123', {}, { expires: now - 10 }),
      none: new UnsecuredJWT({ preferred_username: 'x' }).setSubject('user-123').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').encode(),
      confusion: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('user-123').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(new TextEncoder().encode(publicPem)),
      unknownKey: await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: KID }).setSubject('user-123').setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime('5m').sign(stranger.privateKey),
    };
    for (const [name, token] of Object.entries(refused)) assert.deepEqual(errorCodes(await me(token)), ['UNAUTHENTICATED'], name);
  });

  it('still accepts Parley’s own tokens', async () => {
    const user = await signUp(server);
    assert.equal((await me(user.token)).data?.me.username, user.username);
  });
});

describe('tokens from the app’s own identity provider (one public key)', () => {
  it('accepts a token signed by the key given as JWT_PUBLIC_KEY', async () => {
    const keys = await generateKeyPair('ES256');
    const server = await startTestServer({ JWT_PUBLIC_KEY: await exportSPKI(keys.publicKey), JWT_ALGORITHMS: 'ES256', JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE });
    try {
      const token = await new SignJWT({ preferred_username: 'grace' })
        .setProtectedHeader({ alg: 'ES256' })
        .setSubject('g-1')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(keys.privateKey);
      assert.equal((await new HttpClient(server.url, token).request(MeDocument, {})).data?.me.username, 'grace');
    } finally {
      await server.stop();
    }
  });
});
