// The shipped nginx config (deploy/nginx/parley.conf) in front of two Parley processes: what a client relies on
// through it. Faults behind it (drain, kill -9) are in nginx-faults.test.ts.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { print, type FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { MeDocument, MessageAddedDocument, SendMessageDocument, SignInDocument, SignUpDocument, type MessageAddedSubscription } from './__generated__/graphql.js';
import { Recorder, within } from './helpers/client-sdk.js';
import { createRoom, PASSWORD, uniqueName, type TestUser } from './helpers/fixtures.js';
import { dataOf, errorCodes, HttpClient, postGraphQL, type GraphQLResponse } from './helpers/http-client.js';
import { killLeftovers, spawnParley, startNginx, type ParleyProcess, type RunningNginx } from './helpers/nginx.js';
import type { ServerProcess } from './helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-server.js';

/** A user signed up through `url` (nginx), with an HTTP client that goes through it too. */
async function signUpThrough(url: string): Promise<TestUser> {
  const { signUp } = dataOf(await postGraphQL(url, SignUpDocument, { username: uniqueName(), password: PASSWORD }));
  return { id: signUp.user.id, username: signUp.user.username, token: signUp.token, http: new HttpClient(url, signUp.token) };
}

/** `ws` with the headers a browser page at `origin` would send. */
function webSocketFrom(origin: string) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers: { origin } });
    }
  };
}

/** The upstream address of every proxied line of the access log. */
function upstreamsIn(accessLog: string): Set<string> {
  return new Set([...accessLog.matchAll(/ upstream=(\S+)/g)].map((m) => m[1]!).filter((address) => address !== '-'));
}

describe('two Parley processes behind the shipped nginx config', () => {
  const started: ServerProcess[] = [];
  let database: TestDatabase;
  let processes: ParleyProcess[];
  let nginx: RunningNginx;
  let alice: TestUser;
  before(async () => {
    database = await createTestDatabase();
    processes = await spawnParley(
      2,
      {
        DATABASE_URL: database.url,
        JWT_SECRET: randomBytes(32).toString('hex'),
        // Limits per client address shared by both processes, as a deployment behind one nginx has them.
        REDIS_URL: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
        RATE_LIMIT_KEY_PREFIX: `parley-nginx-test-${randomUUID()}`,
        RATE_LIMIT_SIGNIN_IP: '3/15m',
      },
      started,
    );
    nginx = await startNginx(processes.map((p) => p.address));
    alice = await signUpThrough(nginx.graphqlUrl);
  });
  after(async () => {
    await nginx?.stop();
    await killLeftovers(started);
    await database?.drop();
  });

  it('serves GraphQL over HTTP, spreading requests over both processes', async () => {
    for (let i = 0; i < 6; i++) assert.equal((await alice.http.data(MeDocument, {})).me.id, alice.id);
    assert.deepEqual(upstreamsIn(await nginx.accessLog()), new Set(processes.map((p) => p.address)), 'both processes served requests');
  });

  it('answers /readyz and /healthz for the load balancer in front, and keeps /metrics off the public side', async () => {
    const readyz = await fetch(`${nginx.origin}/readyz`);
    assert.equal(readyz.status, 200);
    assert.deepEqual(await readyz.json(), { status: 'ready' });
    const healthz = await fetch(`${nginx.origin}/healthz`);
    assert.equal(healthz.status, 200);
    assert.deepEqual(await healthz.json(), { status: 'ok' });
    assert.equal((await fetch(`${nginx.origin}/metrics`)).status, 404, '/metrics through nginx');
    assert.equal((await fetch(`${processes[0]!.origin}/metrics`)).status, 200, '/metrics on the process itself');
  });

  it('refuses a body over HTTP_BODY_LIMIT (100kb) in nginx, and passes one under it to Parley', async () => {
    const post = (padding: number) =>
      fetch(nginx.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }', variables: { padding: 'x'.repeat(padding) } }),
      });
    const small = await post(90_000);
    assert.equal(small.status, 200);
    assert.deepEqual(await small.json(), { data: { __typename: 'Query' } });
    const large = await post(150_000);
    assert.equal(large.status, 413);
    assert.match(await large.text(), /nginx/, 'refused by nginx, before any process');
  });

  it('carries a graphql-ws subscription over the WebSocket upgrade, from a page served through nginx', async () => {
    const room = await createRoom(alice);
    const closes = new Recorder<{ code: number; reason: string }>();
    const client: Client = createClient({
      url: nginx.graphqlUrl.replace(/^http/, 'ws'),
      // The browser's Origin is nginx's address: Parley accepts it only if nginx passed the Host on unchanged.
      webSocketImpl: webSocketFrom(nginx.origin),
      connectionParams: { authorization: `Bearer ${alice.token}` },
      retryAttempts: 0,
      on: { closed: (event) => closes.push(event as { code: number; reason: string }) },
    });
    try {
      const received = new Recorder<FormattedExecutionResult<MessageAddedSubscription>>();
      const ended = new Recorder<unknown>();
      client.subscribe<MessageAddedSubscription>(
        { query: print(MessageAddedDocument), variables: { roomId: room.id } },
        { next: received.push, error: ended.push, complete: () => ended.push('complete') },
      );
      // Sent over the same socket, so the same process stores and delivers them. graphql-ws does not acknowledge a
      // subscription: probe until one arrives, then everything after it must.
      const send = (body: string) =>
        new Promise<void>((resolve, reject) => {
          const results: unknown[] = [];
          client.subscribe(
            { query: print(SendMessageDocument), variables: { roomId: room.id, body } },
            { next: (r) => void results.push(r), error: reject, complete: () => (results.length ? resolve() : reject(new Error('no result'))) },
          );
        });
      for (let probe = 0; received.items.length === 0; probe++) {
        assert.ok(probe < 50, 'the subscription went live');
        await send(`probe ${probe}`);
        await received.until((r) => r.length > 0, 200, 'a probe').catch(() => {});
      }
      const first = received.items.length;
      for (const body of ['one', 'two', 'three']) await send(body);
      await received.until((r) => r.length >= first + 3, 5_000, 'three messages');
      const bodies = received.items.map((r) => r.data?.messageAdded.body);
      assert.deepEqual(bodies.slice(-3), ['one', 'two', 'three']);
      const seqs = received.items.map((r) => r.data!.messageAdded.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
      assert.deepEqual(ended.items, [], 'the subscription is still open');
      assert.deepEqual(closes.items, [], 'the socket is still open');
    } finally {
      await client.dispose();
    }
  });

  it("still refuses a WebSocket from another site's page (Origin checked behind nginx)", async () => {
    const socket = new WebSocket(nginx.graphqlUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { headers: { origin: 'https://elsewhere.example' } });
    const status = await within(
      new Promise<number>((resolve, reject) => {
        socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        socket.on('open', () => reject(new Error('the upgrade was accepted')));
        socket.on('error', () => {});
      }),
      5_000,
      'the refusal',
    );
    socket.terminate();
    assert.equal(status, 403);
  });

  it('passes the client address on in X-Forwarded-For (TRUST_PROXY=loopback): sign-ins are limited per client, not per nginx', async () => {
    const signInFrom = async (forwardedFor?: string) => {
      const response = await fetch(nginx.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
        body: JSON.stringify({ query: print(SignInDocument), variables: { username: alice.username, password: PASSWORD } }),
      });
      return errorCodes((await response.json()) as GraphQLResponse<unknown>);
    };
    const before = (await nginx.accessLog()).length;
    // RATE_LIMIT_SIGNIN_IP=3/15m: three from one client (wherever nginx sends them), then that client is refused...
    for (let i = 0; i < 3; i++) assert.deepEqual(await signInFrom('203.0.113.7'), [], `sign-in ${i} from 203.0.113.7`);
    assert.deepEqual(await signInFrom('203.0.113.7'), ['RATE_LIMITED']);
    // ...while another client behind the same nginx, and nginx's own peer (127.0.0.1, no header), are not.
    assert.deepEqual(await signInFrom('198.51.100.9'), [], 'another client');
    assert.deepEqual(await signInFrom(), [], 'a client that sent no X-Forwarded-For');
    assert.equal(upstreamsIn((await nginx.accessLog()).slice(before)).size, 2, 'the attempts went to both processes');
  });
});
