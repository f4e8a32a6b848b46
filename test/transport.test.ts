import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { print } from 'graphql';
import { RoomsDocument } from './__generated__/graphql.js';
import { createRoom, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { connectWs, type TestWsClient } from './helpers/ws-client.js';

const INTROSPECTION = '{ __schema { queryType { name } } }';

describe('HTTP transport in development', () => {
  let server: TestServer;
  let alice: TestUser;
  before(async () => {
    server = await startTestServer({ NODE_ENV: 'development' });
    alice = await signUp(server);
  });
  after(() => server.stop());

  it('answers queries sent with GET', async () => {
    const room = await createRoom(alice);
    const url = new URL(server.url);
    url.searchParams.set('query', print(RoomsDocument));
    const response = await fetch(url, { headers: { authorization: `Bearer ${alice.token}`, 'apollo-require-preflight': 'true' } });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { data: { rooms: { id: string }[] } };
    assert.deepEqual(body.data.rooms.map((r) => r.id), [room.id]);
  });

  it('refuses a mutation sent with GET', async () => {
    const url = new URL(server.url);
    url.searchParams.set('query', 'mutation { createRoom(name: "x") { id } }');
    const response = await fetch(url, { headers: { authorization: `Bearer ${alice.token}`, 'apollo-require-preflight': 'true' } });
    assert.equal(response.status, 405);
  });

  it('serves the GraphiQL playground to a browser and allows introspection', async () => {
    const page = await fetch(server.url, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /src="\/playground-assets\/assets\/index-[\w-]+\.js"/);
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: INTROSPECTION }) });
    assert.deepEqual(((await response.json()) as { data: unknown }).data, { __schema: { queryType: { name: 'Query' } } });
  });

  it('reports a syntax error as GRAPHQL_PARSE_FAILED', async () => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ rooms {' }) });
    assert.deepEqual(errorCodes((await response.json()) as { errors: [] }), ['GRAPHQL_PARSE_FAILED']);
  });
});

describe('production: introspection off and internal errors masked, on both transports', () => {
  let server: TestServer;
  let alice: TestUser;
  const clients: TestWsClient[] = [];
  before(async () => {
    server = await startTestServer({ NODE_ENV: 'production' });
    alice = await signUp(server);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server.stop();
  });
  const overWs = async (query: string) => {
    const ws = connectWs(server.wsUrl, { authorization: `Bearer ${alice.token}` });
    clients.push(ws);
    return new Promise<{ errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }>((resolve) => {
      ws.client.subscribe({ query }, {
        next: (result) => resolve(result as never),
        error: (errors) => resolve({ errors: errors as never }),
        complete: () => {},
      });
    });
  };

  it('refuses introspection over HTTP and over the WebSocket', async () => {
    const http = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: INTROSPECTION }) });
    const overHttp = (await http.json()) as { errors: { message: string }[] };
    const overSocket = await overWs(INTROSPECTION);
    for (const response of [overHttp, overSocket]) {
      assert.deepEqual(errorCodes(response), ['GRAPHQL_VALIDATION_FAILED']);
      assert.equal(response.errors?.[0]?.message, 'Introspection is disabled on this server');
    }
    // __typename is not introspection and keeps working.
    assert.deepEqual(errorCodes(await overWs('{ __typename }')), []);
  });

  it('masks an unexpected database failure as "Internal server error" without SQL, on HTTP and WebSocket', async () => {
    await createRoom(alice);
    await server.sql('ALTER TABLE rooms RENAME TO rooms_gone');
    try {
      const http = await alice.http.request(RoomsDocument, {});
      const ws = await overWs(print(RoomsDocument));
      for (const response of [http, ws]) {
        assert.deepEqual(response.errors?.map((e) => [e.message, e.extensions?.['code']]), [['Internal server error', 'INTERNAL_SERVER_ERROR']]);
        const text = JSON.stringify(response);
        assert.doesNotMatch(text, /rooms_gone|relation|SELECT|stack/i);
      }
    } finally {
      await server.sql('ALTER TABLE rooms_gone RENAME TO rooms');
    }
    assert.deepEqual(errorCodes(await alice.http.request(RoomsDocument, {})), []);
  });

  it('serves no playground page', async () => {
    const page = await fetch(server.url, { headers: { accept: 'text/html' } });
    assert.doesNotMatch(await page.text(), /sandbox|graphiql|playground/i);
  });
});
