import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { CreateRoomDocument, MessagesDocument, SendMessageDocument } from './__generated__/graphql.js';
import { signUp, type TestUser } from './helpers/fixtures.js';
import { RawGraphQLWs } from './helpers/raw-graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ALLOWED_ORIGIN = 'https://app.example.com';
/** A well-formed room id that no room has. */
const NO_ROOM = '00000000-0000-4000-8000-000000000000';

interface Outcome {
  status: number;
  messages: string[];
  codes: unknown[];
}

/** POSTs a raw body to /graphql. */
async function post(server: TestServer, body: string, headers: Record<string, string> = {}): Promise<Outcome & { headers: Headers }> {
  const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await response.text();
  const parsed = JSON.parse(text) as { errors?: { message: string; extensions?: { code?: unknown } }[] };
  return {
    status: response.status,
    headers: response.headers,
    messages: (parsed.errors ?? []).map((e) => e.message),
    codes: (parsed.errors ?? []).map((e) => e.extensions?.code),
  };
}

/** Runs `query` over HTTP and over graphql-ws; returns both outcomes' error messages. */
async function onBothTransports(server: TestServer, user: TestUser, query: string): Promise<{ http: string[]; ws: string[] }> {
  const http = await post(server, JSON.stringify({ query }), { authorization: `Bearer ${user.token}` });
  const socket = new RawGraphQLWs(server.wsUrl);
  try {
    await socket.init({ authorization: `Bearer ${user.token}` });
    socket.subscribe('q', query);
    const reply = (await socket.control.take(5000, 'the error')) as { type: string; payload?: { message: string }[] };
    assert.equal(reply.type, 'error', JSON.stringify(reply));
    return { http: http.messages, ws: (reply.payload ?? []).map((e) => e.message) };
  } finally {
    socket.close();
  }
}

/** Opens a bare socket and resolves with how the server ended it (or with the upgrade refusal's status). */
function openRaw(url: string, options: { protocol?: string | string[]; origin?: string } = {}) {
  const socket = new WebSocket(url, options.protocol ?? 'graphql-transport-ws', { perMessageDeflate: false, ...(options.origin ? { origin: options.origin } : {}) });
  const outcome = new Promise<{ opened: boolean; status?: number; code?: number; reason?: string }>((resolve) => {
    let opened = false;
    socket.once('open', () => (opened = true));
    socket.once('unexpected-response', (_req, res) => resolve({ opened, status: res.statusCode }));
    socket.once('close', (code, reason) => resolve({ opened, code, reason: reason.toString() }));
    socket.on('error', () => {});
  });
  const ready = new Promise<void>((resolve) => socket.once('open', () => resolve()));
  return { socket, outcome, ready };
}

describe('hostile input: document limits on both transports', () => {
  let server: TestServer;
  let user: TestUser;
  before(async () => {
    server = await startTestServer();
    user = await signUp(server);
  });
  after(() => server.stop());

  it('refuses a document deeper than 10 levels, and accepts one of 10', async () => {
    const replies = (levels: number) => `${'replyTo { '.repeat(levels)}id${' }'.repeat(levels)}`;
    const history = (levels: number) => `{ messages(roomId: "${NO_ROOM}") { edges { node { ${replies(levels)} } } } }`;
    const { http, ws } = await onBothTransports(server, user, history(7)); // 11 levels
    for (const messages of [http, ws]) assert.deepEqual(messages, ['Syntax Error: Query depth limit of 10 exceeded, found 11.']);
    const deepEnough = await post(server, JSON.stringify({ query: history(6) }), { authorization: `Bearer ${user.token}` });
    assert.deepEqual(deepEnough.codes, ['NOT_FOUND']); // validated and run: the room does not exist
  });

  it('refuses more than 15 aliases', async () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(' ')} }`;
    const { http, ws } = await onBothTransports(server, user, query);
    for (const messages of [http, ws]) assert.ok(messages.some((m) => /Aliases limit of 15 exceeded/i.test(m)), messages.join('; '));
  });

  it('refuses more than 50 directives', async () => {
    const query = `{ me { id ${'@include(if: true) '.repeat(51)} } }`;
    const { http, ws } = await onBothTransports(server, user, query);
    for (const messages of [http, ws]) assert.ok(messages.some((m) => /Directives limit of 50 exceeded/i.test(m)), messages.join('; '));
  });

  it('refuses a document of more than 1,000 tokens while parsing it', async () => {
    const query = `{ me { ${'id '.repeat(1000)} } }`;
    const { http, ws } = await onBothTransports(server, user, query);
    for (const messages of [http, ws]) assert.deepEqual(messages, ['Syntax Error: Document contains more that 1000 tokens. Parsing aborted.']);
  });

  it('refuses a document over the cost limit that keeps every other limit, and accepts a full history page', async () => {
    const page = `messages(roomId: "${NO_ROOM}", last: 50) { edges { cursor node { id body seq cursor createdAt editedAt deletedAt
      author { id username } reactions { emoji count reactedByMe } replyTo { id body author { username } } room { id name lastSeq unreadCount } } }
      pageInfo { hasPreviousPage startCursor } }`;
    const { http, ws } = await onBothTransports(server, user, `{ ${Array.from({ length: 14 }, (_, i) => `p${i}: ${page}`).join(' ')} }`);
    for (const messages of [http, ws]) assert.deepEqual(messages, ['Syntax Error: Query Cost limit of 20000 exceeded, found 100296.875.']);
    const one = await post(server, JSON.stringify({ query: `{ me { id username } rooms { id name lastSeq unreadCount } ${page} }` }), { authorization: `Bearer ${user.token}` });
    assert.deepEqual(one.codes, ['NOT_FOUND']);
  });

  it('keeps field suggestions outside production', async () => {
    const { http, ws } = await onBothTransports(server, user, '{ roomz { id } }');
    for (const messages of [http, ws]) assert.deepEqual(messages, ['Cannot query field "roomz" on type "Query". Did you mean "room" or "rooms"?']);
  });
});

describe('hostile input: production hides the schema on both transports', () => {
  let server: TestServer;
  let user: TestUser;
  before(async () => {
    server = await startTestServer({ NODE_ENV: 'production' });
    user = await signUp(server);
  });
  after(() => server.stop());

  it('gives no field suggestions', async () => {
    const { http, ws } = await onBothTransports(server, user, '{ roomz { id } }');
    for (const messages of [http, ws]) assert.deepEqual(messages, ['Cannot query field "roomz" on type "Query".']);
  });

  it('enforces helmet’s strict Content-Security-Policy', async () => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'.*script-src 'self'/);
    assert.equal(response.headers.get('strict-transport-security')?.startsWith('max-age='), true);
  });
});

describe('hostile input: HTTP', () => {
  let server: TestServer;
  let user: TestUser;
  before(async () => {
    server = await startTestServer({ CORS_ORIGINS: ALLOWED_ORIGIN });
    user = await signUp(server);
  });
  after(() => server.stop());

  it('refuses a batched request with 400', async () => {
    const outcome = await post(server, JSON.stringify([{ query: '{ me { id } }' }, { query: '{ me { id } }' }]), { authorization: `Bearer ${user.token}` });
    assert.equal(outcome.status, 400);
  });

  it('answers a body over 100 kB with 413 and a GraphQL error, and malformed JSON with 400', async () => {
    const big = await post(server, JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(110_000)}` }));
    assert.deepEqual([big.status, big.codes], [413, ['PAYLOAD_TOO_LARGE']]);
    const malformed = await post(server, '{"query": ');
    assert.deepEqual([malformed.status, malformed.codes], [400, ['BAD_REQUEST']]);
  });

  it('blocks a CSRF-style GET (no preflight header) and serves one with it', async () => {
    const url = `${server.url}?query=${encodeURIComponent('{ __typename }')}`;
    const simple = await fetch(url);
    assert.equal(simple.status, 400);
    const preflighted = await fetch(url, { headers: { 'apollo-require-preflight': 'true' } });
    assert.equal(preflighted.status, 200);
  });

  it('sends security headers on every response; the playground page gets its own enforced policy', async () => {
    for (const response of [await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' }), await fetch(`${server.url}/../nowhere`)]) {
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('x-powered-by'), null);
    }
    const page = await fetch(server.url, { headers: { accept: 'text/html' } });
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    assert.equal(page.headers.get('content-security-policy-report-only'), null);
  });

  it('serves CORS to allowed origins only', async () => {
    const preflight = (origin: string) =>
      fetch(server.url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    const allowed = await preflight(ALLOWED_ORIGIN);
    assert.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED_ORIGIN);
    const foreign = await preflight('https://evil.example.net');
    assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  });
});

describe('hostile input: the WebSocket handshake and protocol', () => {
  let server: TestServer;
  let user: TestUser;
  before(async () => {
    server = await startTestServer({ CORS_ORIGINS: ALLOWED_ORIGIN, WS_CONNECTION_INIT_TIMEOUT: '300' });
    user = await signUp(server);
  });
  after(() => server.stop());

  it('refuses a foreign Origin with 403 before the upgrade; allows none, its own and allowed ones', async () => {
    assert.deepEqual(await openRaw(server.wsUrl, { origin: 'https://evil.example.net' }).outcome, { opened: false, status: 403 });
    for (const origin of [undefined, ALLOWED_ORIGIN, new URL(server.url).origin]) {
      const { socket, ready } = openRaw(server.wsUrl, origin ? { origin } : {});
      await ready;
      socket.close();
    }
  });

  it('closes a socket with a wrong or missing subprotocol with 4406', async () => {
    assert.deepEqual(await openRaw(server.wsUrl, { protocol: [] }).outcome, { opened: true, code: 4406, reason: 'Subprotocol not acceptable' });
    // A client asking for another subprotocol gets none in the 101 (so ws and browsers abort), then a 4406 close frame.
    const upgraded = await new Promise<{ protocol: unknown; frame: Buffer }>((resolve, reject) => {
      const request = http.request(server.wsUrl.replace(/^ws/, 'http'), {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-protocol': 'graphql-ws' },
      });
      request.once('upgrade', (response, socket, head: Buffer) => {
        const done = (frame: Buffer) => {
          resolve({ protocol: response.headers['sec-websocket-protocol'], frame });
          socket.destroy();
        };
        // The close frame may arrive with the 101 response (then it is `head`) or after it.
        if (head.length > 0) done(head);
        else socket.once('data', done);
      });
      request.once('error', reject);
      request.end();
    });
    assert.equal(upgraded.protocol, undefined);
    assert.equal(upgraded.frame[0], 0x88); // FIN + close
    assert.deepEqual([upgraded.frame.readUInt16BE(2), upgraded.frame.subarray(4).toString()], [4406, 'Subprotocol not acceptable']);
  });

  it('closes a socket that sends no connection_init in time with 4408', async () => {
    assert.deepEqual(await openRaw(server.wsUrl).outcome, { opened: true, code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('closes on a second connection_init (4429) and on subscribe before the ack (4401)', async () => {
    const twice = new RawGraphQLWs(server.wsUrl);
    await twice.init({ authorization: `Bearer ${user.token}` });
    twice.socket.send(JSON.stringify({ type: 'connection_init' }));
    assert.deepEqual(await twice.closed, { code: 4429, reason: 'Too many initialisation requests' });

    const { socket, outcome, ready } = openRaw(server.wsUrl);
    await ready;
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ __typename }' } }));
    assert.deepEqual(await outcome, { opened: true, code: 4401, reason: 'Unauthorized' });
  });

  it('closes with 4400 on non-JSON, an array, a message without id or type, and a binary frame', async () => {
    const frames: (string | Buffer)[] = ['not json', '[1,2]', JSON.stringify({ type: 'subscribe', payload: { query: '{ __typename }' } }), JSON.stringify({ id: '1' }), Buffer.from([0xff, 0x00, 0x13])];
    for (const frame of frames) {
      const socket = new RawGraphQLWs(server.wsUrl);
      await socket.init({ authorization: `Bearer ${user.token}` });
      socket.socket.send(frame);
      assert.deepEqual(await socket.closed, { code: 4400, reason: 'Invalid message received' }, String(frame));
    }
  });

  it('closes on a duplicate operation id with 4409', async () => {
    const socket = new RawGraphQLWs(server.wsUrl);
    await socket.init({ authorization: `Bearer ${user.token}` });
    const room = await user.http.data(CreateRoomDocument, { name: `dup ${Date.now()}`, kind: 'PUBLIC' });
    const query = `subscription { messageAdded(roomId: "${room.createRoom.id}") { id } }`;
    socket.subscribe('same', query);
    socket.subscribe('same', query);
    assert.deepEqual(await socket.closed, { code: 4409, reason: 'Subscriber for same already exists' });
  });

  it('closes a socket that sends a frame over 64 KiB with 1009', async () => {
    const socket = new RawGraphQLWs(server.wsUrl);
    await socket.init({ authorization: `Bearer ${user.token}` });
    socket.subscribe('big', `{ me { id } } # ${'x'.repeat(70_000)}`);
    assert.equal((await socket.closed).code, 1009);
  });

  it('answers a syntax error with an error for that id and keeps the socket', async () => {
    const socket = new RawGraphQLWs(server.wsUrl);
    await socket.init({ authorization: `Bearer ${user.token}` });
    socket.subscribe('broken', '{ me { id }');
    const reply = (await socket.control.take(5000, 'the error')) as { id: string; type: string; payload: { message: string }[] };
    assert.deepEqual([reply.id, reply.type], ['broken', 'error']);
    assert.match(reply.payload[0]!.message, /^Syntax Error/);
    socket.subscribe('fine', '{ me { id } }');
    assert.match(await socket.queue('fine').take(5000, 'the result'), /"me":\{"id":/);
    socket.close();
  });
});

describe('hostile input: per-socket and per-user caps', () => {
  let server: TestServer;
  let user: TestUser;
  let other: TestUser;
  before(async () => {
    server = await startTestServer();
    [user, other] = [await signUp(server), await signUp(server)];
  });
  after(() => server.stop());

  it('refuses the 101st operation on a socket with TOO_MANY_OPERATIONS and keeps the socket', async () => {
    const room = (await user.http.data(CreateRoomDocument, { name: `cap ${Date.now()}`, kind: 'PUBLIC' })).createRoom;
    const socket = new RawGraphQLWs(server.wsUrl);
    await socket.init({ authorization: `Bearer ${user.token}` });
    const query = `subscription { messageAdded(roomId: "${room.id}") { id } }`;
    for (let i = 0; i < 100; i++) socket.subscribe(`s${i}`, query);
    socket.subscribe('one-too-many', query);
    const refusal = (await socket.control.take(5000, 'the refusal')) as { id: string; type: string; payload: { extensions: { code: string } }[] };
    assert.deepEqual([refusal.id, refusal.type, refusal.payload[0]!.extensions.code], ['one-too-many', 'error', 'TOO_MANY_OPERATIONS']);
    // A query counts too while it runs; after a complete there is room again.
    socket.subscribe('query', '{ me { id } }');
    const queryRefusal = (await socket.control.take(5000, 'the refusal')) as { id: string; type: string };
    assert.deepEqual([queryRefusal.id, queryRefusal.type], ['query', 'error']);
    socket.complete('s0');
    socket.subscribe('query-2', '{ me { id } }');
    assert.match(await socket.queue('query-2').take(5000, 'the result'), /"me":\{"id":/);
    socket.close();
  });

  it('closes a user’s 21st socket with 1008 while other users connect, and accepts one again after a close', async () => {
    const sockets: RawGraphQLWs[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const socket = new RawGraphQLWs(server.wsUrl);
        await socket.init({ authorization: `Bearer ${user.token}` });
        sockets.push(socket);
      }
      const extra = new RawGraphQLWs(server.wsUrl);
      await assert.rejects(extra.init({ authorization: `Bearer ${user.token}` }));
      assert.deepEqual(await extra.closed, { code: 1008, reason: 'Too many sockets for this user (at most 20)' });
      const someoneElse = new RawGraphQLWs(server.wsUrl);
      await someoneElse.init({ authorization: `Bearer ${other.token}` });
      sockets.push(someoneElse);
      const first = sockets.shift()!;
      first.close();
      await first.closed;
      const again = new RawGraphQLWs(server.wsUrl);
      await again.init({ authorization: `Bearer ${user.token}` });
      sockets.push(again);
    } finally {
      for (const socket of sockets) socket.close();
    }
  });
});

describe('hostile input: content', () => {
  let server: TestServer;
  let user: TestUser;
  let roomId: string;
  before(async () => {
    server = await startTestServer();
    user = await signUp(server);
    roomId = (await user.http.data(CreateRoomDocument, { name: 'content', kind: 'PUBLIC' })).createRoom.id;
  });
  after(() => server.stop());

  /** Sends a body written as raw JSON text (so lone surrogates reach the server as such). */
  const sendRaw = (bodyJson: string) =>
    post(server, `{"query":"mutation ($r: ID!, $b: String!) { sendMessage(roomId: $r, body: $b) { body } }","variables":{"r":"${roomId}","b":${bodyJson}}}`, {
      authorization: `Bearer ${user.token}`,
    });

  it('refuses NUL characters and lone surrogates in a body with BAD_USER_INPUT, storing nothing', async () => {
    for (const body of ['"a\\u0000b"', '"half \\ud83d emoji"', '"\\udc00"']) {
      const outcome = await sendRaw(body);
      assert.deepEqual([outcome.status, outcome.codes], [200, ['BAD_USER_INPUT']], body);
    }
    const refusedName = await post(server, JSON.stringify({ query: 'mutation { createRoom(name: "a\\u0000b") { id } }' }), { authorization: `Bearer ${user.token}` });
    assert.deepEqual(refusedName.codes, ['BAD_USER_INPUT']);
    assert.deepEqual(await server.sql('SELECT body FROM messages WHERE room_id = $1', [roomId]), []);
  });

  it('stores and returns exactly bodies with bidi overrides, SQL- and HTML-looking text, and astral characters, on both transports', async () => {
    const bodies = ['\u202Egnp.exe\u202C readme', "'; DROP TABLE messages; --", '<script>alert("x")</script><img src=x onerror=alert(1)>', '𝕳𝖊𝖑𝖑𝖔 👩‍👩‍👧 \u200B zero-width'];
    const socket = new RawGraphQLWs(server.wsUrl);
    try {
      await socket.init({ authorization: `Bearer ${user.token}` });
      const marker = (await user.http.data(SendMessageDocument, { roomId, body: 'marker' })).sendMessage;
      const stream = socket.subscribe('live', 'subscription ($r: ID!, $a: String) { messageAdded(roomId: $r, after: $a) { body } }', { r: roomId, a: marker.cursor });
      for (const body of bodies) assert.equal((await sendRaw(JSON.stringify(body))).status, 200);
      const live = [];
      for (let i = 0; i < bodies.length; i++) {
        live.push((JSON.parse(await stream.take(5000, 'a body')) as { payload: { data: { messageAdded: { body: string } } } }).payload.data.messageAdded.body);
      }
      assert.deepEqual(live, bodies);
      const history = await user.http.data(MessagesDocument, { roomId, last: bodies.length });
      assert.deepEqual(history.messages.edges.map((e) => e.node.body), bodies);
    } finally {
      socket.close();
    }
  });
});

describe('hostile input: tokens', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('refuses garbage, an RS256 token (no provider configured) and a token not valid yet, on both transports, saying "Invalid token"', async () => {
    const { generateKeyPair, SignJWT } = await import('jose');
    const rsa = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const tokens = {
      garbage: 'not.a.token',
      empty: 'e30.e30.',
      rs256: await new SignJWT({}).setProtectedHeader({ alg: 'RS256' }).setSubject(randomUUIDv4()).setIssuer('parley').setAudience('parley').setExpirationTime('5m').sign(rsa.privateKey),
      notYet: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(randomUUIDv4()).setIssuer('parley').setAudience('parley').setNotBefore(now + 3600).setExpirationTime(now + 7200).sign(randomBytes(32)),
    };
    for (const [name, token] of Object.entries(tokens)) {
      const http = await post(server, JSON.stringify({ query: '{ me { id } }' }), { authorization: `Bearer ${token}` });
      assert.deepEqual([http.codes, http.messages], [['UNAUTHENTICATED'], ['Invalid token']], name);
      const socket = new RawGraphQLWs(server.wsUrl);
      await assert.rejects(socket.init({ authorization: `Bearer ${token}` }), name);
      // The close reason is the refusal's, as over HTTP; graphql-ws's own refusal would say only "Forbidden".
      assert.deepEqual(await socket.closed, { code: 4403, reason: 'Invalid token' }, name);
    }
  });
});

function randomUUIDv4(): string {
  return globalThis.crypto.randomUUID();
}

describe('hostile input: stuck authentication and dead peers', () => {
  let stuck: http.Server;
  let server: TestServer;
  before(async () => {
    // An identity provider that never answers: authenticating its tokens hangs.
    stuck = http.createServer(() => {});
    await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve));
    const { port } = stuck.address() as import('node:net').AddressInfo;
    server = await startTestServer({
      JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks`,
      JWT_ISSUER: 'https://id.example.test',
      JWT_AUDIENCE: 'parley-app',
      WS_CONNECT_TIMEOUT: '300',
      WS_KEEPALIVE: '200',
    });
  });
  after(async () => {
    await server.stop();
    stuck.closeAllConnections();
    await new Promise((resolve) => stuck.close(resolve));
  });

  it('closes a socket whose connection_init takes too long to authenticate with 4408', async () => {
    const { generateKeyPair, SignJWT } = await import('jose');
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k' }).setSubject('s').setIssuer('https://id.example.test').setAudience('parley-app').setExpirationTime('5m').sign(privateKey);
    const socket = new RawGraphQLWs(server.wsUrl);
    await assert.rejects(socket.init({ authorization: `Bearer ${token}` }));
    assert.deepEqual(await socket.closed, { code: 4408, reason: 'Authentication timed out' });
  });

  it('terminates a socket that stops answering pings, and keeps one that answers', async () => {
    const user = await signUp(server);
    const dead = new WebSocket(server.wsUrl, 'graphql-transport-ws', { autoPong: false });
    const opened = new Promise((resolve) => dead.once('open', resolve));
    const closed = new Promise<number>((resolve) => dead.once('close', (code) => resolve(code)));
    const alive = new RawGraphQLWs(server.wsUrl);
    await alive.init({ authorization: `Bearer ${user.token}` });
    await opened;
    dead.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${user.token}` } }));
    assert.equal(await closed, 1006); // terminated: no close frame
    alive.subscribe('still', '{ me { id } }');
    assert.match(await alive.queue('still').take(5000, 'me'), /"me":\{"id":/);
    alive.close();
  });
});
