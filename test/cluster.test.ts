// Cluster mode (WORKERS=N): one port served by N worker processes under a node:cluster primary that restarts
// crashed workers, owns the embedded PostgreSQL, aggregates /metrics and passes shutdown signals on.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { CreateRoomDocument, JoinRoomDocument, MeDocument, MessageAddedDocument, SendMessageDocument, SignUpDocument, type MessageAddedSubscription } from './__generated__/graphql.js';
import { PASSWORD, uniqueName } from './helpers/fixtures.js';
import { makeEmbeddedDataDir, processExists, removeEmbeddedDataDir, spawnServer as spawn, type LogLine, type ServerProcess } from './helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-server.js';
import { connectWs, waitUntilLive, type TestSubscription, type TestWsClient } from './helpers/ws-client.js';

const SECRET = 'a-production-secret-of-at-least-32-chars';
const METRICS_TOKEN = 'a-metrics-token-for-the-cluster';
/** Each worker loads the sources through tsx: a cluster takes longer to come up than one process. */
const START_TIMEOUT_MS = 90_000;

// Every server a test starts is killed afterwards (the primary with its workers), also when a test failed.
const started: ServerProcess[] = [];
function spawnServer(env: Record<string, string | undefined>): ServerProcess {
  const server = spawn(env);
  started.push(server);
  return server;
}
after(() => {
  for (const server of started) {
    for (const line of server.lines) if (line.msg === 'worker listening' && typeof line['pid'] === 'number' && processExists(line['pid'])) process.kill(line['pid'], 'SIGKILL');
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  }
});

// Sockets are closed after each test that opened them (also when it failed).
const sockets: TestWsClient[] = [];
async function closeSockets(): Promise<void> {
  await Promise.all(sockets.splice(0).map((socket) => socket.dispose()));
}

describe('WORKERS=2 on DATABASE_URL', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let url: string;
  let workerLines: LogLine[];
  before(async () => {
    database = await createTestDatabase();
    server = spawnServer({ DATABASE_URL: database.url, WORKERS: '2', PORT: '0', NODE_ENV: 'production', HOST: '127.0.0.1', JWT_SECRET: SECRET, METRICS_TOKEN, LOG_LEVEL: 'info' });
    url = (await server.waitForLog('Parley is listening', START_TIMEOUT_MS))['url'] as string;
    workerLines = server.lines.filter((line) => line.msg === 'worker listening');
  });
  after(async () => {
    await closeSockets();
    if (server.child.exitCode === null) server.child.kill('SIGINT');
    await server.waitForExit().catch(() => {});
    await database.drop();
  });

  it('the primary logs one "Parley is listening" once both workers listen, on the one port they share', async () => {
    const listening = server.lines.find((line) => line.msg === 'Parley is listening')!;
    assert.equal(listening['workers'], 2);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    assert.equal(server.lines.filter((line) => line.msg === 'Parley is listening').length, 1, 'workers do not log the primary’s line');
    assert.equal(workerLines.length, 2);
    assert.deepEqual(new Set(workerLines.map((line) => line['url'])), new Set([url]), 'PORT=0: both workers got the same port');
    assert.equal(new Set(workerLines.map((line) => line['worker'])).size, 2, 'each worker’s lines carry its id');
    assert.equal(new Set(workerLines.map((line) => line['pid'])).size, 2);
    assert.ok(!workerLines.some((line) => line['pid'] === server.child.pid), 'the primary serves nothing itself');
    const applied = server.lines.filter((line) => line.msg === 'applied migrations');
    assert.equal(applied.length, 1, 'migrations ran once, in the primary');
    assert.equal(applied[0]!['pid'], server.child.pid);
  });

  it('serves GraphQL and health checks, and /metrics (token required) sums the figures of both workers', async () => {
    const { token } = await signUp(url);
    assert.equal((await httpRequest(new URL('/healthz', url))).status, 200);
    assert.equal((await httpRequest(new URL('/metrics', url))).status, 401);

    const opened = await connectUntilEveryWorker(url, token, 2);
    const metrics = await scrape(url);
    assert.equal(value(metrics, 'parley_websocket_connections'), opened, 'the sockets of both workers, summed');
    const perWorker = series(metrics, 'parley_worker_websocket_connections');
    assert.equal(perWorker.length, 2);
    assert.ok(perWorker.every((s) => s.value >= 1), JSON.stringify(perWorker));
    assert.equal(perWorker.reduce((sum, s) => sum + s.value, 0), opened);
    assert.equal(value(metrics, 'parley_cluster_workers'), 2);
    assert.equal(value(metrics, 'nodejs_version_info', { version: process.version }), 1, 'a "first" metric is not summed');

    await closeSockets();
    await waitForMetrics(url, (text) => value(text, 'parley_websocket_connections') === 0, 'the sockets to be gone');
  });

  it('a message sent through one worker reaches subscribers on both workers, once each and in order', async () => {
    const alice = await signUp(url);
    const bob = await signUp(url);
    const room = (await graphql(url, CreateRoomDocument, { name: uniqueName('room'), kind: 'PUBLIC' }, alice.token)).createRoom;
    await graphql(url, JoinRoomDocument, { roomId: room.id }, bob.token);
    let probes = 0;
    const send = (body: string) => graphql(url, SendMessageDocument, { roomId: room.id, body }, alice.token);

    // Bob subscribes on sockets until both workers hold at least one of them: the sender's worker is one of the two.
    const subscriptions: TestSubscription<MessageAddedSubscription>[] = [];
    await connectUntilEveryWorker(url, bob.token, 2, (socket) => subscriptions.push(socket.subscribe(MessageAddedDocument, { roomId: room.id })));
    for (const subscription of subscriptions) await waitUntilLive(subscription.results, () => send(`probe ${++probes}`));

    const { sendMessage: sent } = await send('hello from one worker to every worker');
    for (const [index, subscription] of subscriptions.entries()) {
      let last = 0;
      for (;;) {
        const result = await subscription.results.take(5000, `the message on subscriber ${index}`);
        const message = result.data!.messageAdded;
        assert.ok(message.seq > last, `subscriber ${index}: seq ${message.seq} after ${last} (a duplicate or out of order)`);
        last = message.seq;
        if (message.id === sent.id) break;
      }
    }
    await closeSockets();
    await waitForMetrics(url, (text) => value(text, 'parley_websocket_connections') === 0, 'the sockets to be gone');
  });

  it('a worker killed with SIGKILL is restarted, and requests succeed meanwhile', async () => {
    const { token } = await signUp(url);
    const victim = workerLines[0]!;
    process.kill(victim['pid'] as number, 'SIGKILL');
    const crash = await server.waitForLog('worker exited unexpectedly: restarting it');
    assert.equal(crash['worker'], victim['worker']);
    assert.equal(crash['exit'], 'killed by SIGKILL');
    assert.equal(typeof crash['restartInMs'], 'number');

    // Until the replacement listens, and after: every request succeeds, each on a connection of its own.
    const replacement = server.waitForLog('worker listening', START_TIMEOUT_MS);
    let replaced = false;
    void replacement.then(() => (replaced = true), () => {});
    let requests = 0;
    while (!replaced || requests < 20) {
      const response = await graphqlResponse(url, MeDocument, {}, token);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal((response.body as { data?: { me?: { id?: string } } }).data?.me?.id !== undefined, true, JSON.stringify(response.body));
      requests++;
    }
    const newWorker = await replacement;
    assert.notEqual(newWorker['worker'], victim['worker']);
    assert.equal(newWorker['url'], url);
    workerLines = [workerLines[1]!, newWorker];

    const metrics = await scrape(url);
    assert.equal(value(metrics, 'parley_cluster_worker_restarts_total'), 1);
    assert.equal(value(metrics, 'parley_cluster_workers'), 2);
  });
});

describe('WORKERS=2 without DATABASE_URL: the primary owns the embedded PostgreSQL', () => {
  let dataDir: string;
  let env: Record<string, string | undefined>;
  before(async () => ({ dataDir, env } = await makeEmbeddedDataDir('parley-cluster-')));
  after(async () => {
    await closeSockets();
    await removeEmbeddedDataDir(dataDir);
  });

  it('starts, shares one generated JWT secret, and on SIGTERM drains every worker (1012), stops PostgreSQL and exits 0', async () => {
    const server = spawnServer({ ...env, WORKERS: '2' });
    const listening = await server.waitForLog('Parley is listening', START_TIMEOUT_MS);
    const url = listening['url'] as string;
    assert.equal(listening['workers'], 2);
    const owner = JSON.parse(await readFile(path.join(dataDir, 'owner.json'), 'utf8')) as { pid: number };
    assert.equal(owner.pid, server.child.pid, 'the primary owns DATA_DIR');
    const postmasterPid = Number((await readFile(path.join(dataDir, 'postgres/postmaster.pid'), 'utf8')).split('\n')[0]);

    // A token issued by one worker opens sockets on both: the secret the primary generated is the workers' one.
    const { token } = await signUp(url);
    await connectUntilEveryWorker(url, token, 2);

    server.child.kill('SIGTERM');
    for (const socket of sockets) assert.equal((await socket.closed).code, 1012);
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
    assert.equal(server.lines.filter((line) => line.msg === 'worker stopped' && line['exit'] === 'exit code 0').length, 2);
    const last = server.lines.at(-1)!;
    assert.deepEqual([last.msg, last['pid']], ['stopped', server.child.pid], 'the primary stops last');
    assert.equal(server.lines.some((line) => line.msg === 'worker exited unexpectedly: restarting it'), false);
    assert.equal(processExists(postmasterPid), false, 'no postmaster left running');
    assert.equal(existsSync(path.join(dataDir, 'owner.json')), false, 'DATA_DIR given up');
  });
});

describe('a cluster that cannot start', () => {
  let database: TestDatabase;
  before(async () => (database = await createTestDatabase()));
  after(() => database.drop());

  it('exits 1 when its workers cannot listen (the port is taken), naming the worker that failed', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as net.AddressInfo).port;
      const server = spawnServer({ DATABASE_URL: database.url, WORKERS: '2', PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: SECRET, LOG_LEVEL: 'info' });
      assert.deepEqual(await server.waitForExit(START_TIMEOUT_MS), { code: 1, signal: null });
      const fatal = server.lines.find((line) => line.msg?.startsWith('Parley failed to start') && line['pid'] === server.child.pid);
      assert.match(String(fatal?.msg), /worker \d+ exited \(exit code 1\) before it was listening/, JSON.stringify(server.lines.map((l) => l.msg)));
      assert.match(JSON.stringify(server.lines) + server.text, /EADDRINUSE/, 'the worker says why');
    } finally {
      taken.close();
    }
  });
});

// --- helpers -------------------------------------------------------------------------------------------------

interface HttpResponse {
  status: number;
  text: string;
}

/**
 * One request on a connection of its own (no keep-alive pool), so each may land on another worker; or on `agent`'s
 * kept-alive connection.
 */
function httpRequest(url: URL, options: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent } = {}): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: options.agent ?? false }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, text }));
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

async function graphqlResponse<TData, TVariables>(url: string, document: TypedDocumentNode<TData, TVariables>, variables: TVariables, token?: string) {
  const response = await httpRequest(new URL(url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { status: response.status, body: JSON.parse(response.text) as { data?: TData; errors?: unknown[] } };
}

async function graphql<TData, TVariables>(url: string, document: TypedDocumentNode<TData, TVariables>, variables: TVariables, token?: string): Promise<TData> {
  const { body } = await graphqlResponse(url, document, variables, token);
  if (!body.data || body.errors) throw new Error(`expected data, got ${JSON.stringify(body)}`);
  return body.data;
}

async function signUp(url: string): Promise<{ token: string }> {
  return (await graphql(url, SignUpDocument, { username: uniqueName(), password: PASSWORD })).signUp;
}

/**
 * Scrapes share one kept-alive connection: they do not take a turn in the cluster's round-robin of new connections,
 * which would otherwise pair with the sockets a test opens between scrapes and land every socket on one worker.
 */
const scrapes = new http.Agent({ keepAlive: true, maxSockets: 1 });
after(() => scrapes.destroy());

async function scrape(url: string): Promise<string> {
  const response = await httpRequest(new URL('/metrics', url), { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, agent: scrapes });
  assert.equal(response.status, 200, response.text);
  return response.text;
}

/** The samples of one metric: labels as written and the value. */
function series(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
    .map((line) => {
      const match = /^[^{ ]+(?:\{(.*)\})? (\S+)$/.exec(line)!;
      const labels = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
      return { labels, value: Number(match[2]) };
    });
}

/** The value of the sample of `name` whose labels include `labels`; undefined when there is none. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return series(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/**
 * Polls /metrics until `done(text)`: the server closes sockets on its own time after a client's close, with
 * nothing to wait for but the figure itself.
 */
async function waitForMetrics(url: string, done: (text: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await scrape(url);
    if (done(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

/**
 * Opens sockets (each set up by `onOpen`, a subscription say) until every one of `workers` workers holds at least
 * one more than before, as the per-worker socket gauge shows; returns how many were opened. The cluster hands
 * connections out in turn, so this takes a few at most.
 */
async function connectUntilEveryWorker(url: string, token: string, workers: number, onOpen: (socket: TestWsClient) => void = () => {}): Promise<number> {
  const perWorker = (text: string) => new Map(series(text, 'parley_worker_websocket_connections').map((s) => [s.labels['worker'], s.value]));
  const before = perWorker(await scrape(url));
  for (let opened = 1; opened <= 12; opened++) {
    const socket = connectWs(url.replace(/^http/, 'ws'), { authorization: `Bearer ${token}` });
    sockets.push(socket);
    await socket.connected;
    onOpen(socket);
    const now = perWorker(await scrape(url));
    const grown = [...now].filter(([worker, count]) => count > (before.get(worker) ?? 0));
    if (grown.length >= workers) return opened;
  }
  throw new Error(`12 sockets did not reach ${workers} workers`);
}
