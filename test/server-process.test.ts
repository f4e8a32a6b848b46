import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MeDocument, SignInDocument, SignUpDocument } from './__generated__/graphql.js';
import { PASSWORD } from './helpers/fixtures.js';
import { dataOf, postGraphQL } from './helpers/http-client.js';
import { makeEmbeddedDataDir, removeEmbeddedDataDir, spawnServer as spawn, type ServerProcess } from './helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-server.js';
import { connectWs } from './helpers/ws-client.js';

const SECRET = 'a-production-secret-of-at-least-32-chars';

// Every server a test starts is killed afterwards, also when the test failed before stopping it.
const started: ServerProcess[] = [];
function spawnServer(env: Record<string, string | undefined>): ServerProcess {
  const server = spawn(env);
  started.push(server);
  return server;
}
after(() => {
  for (const server of started) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
});

describe('the server process', () => {
  let database: TestDatabase;
  before(async () => (database = await createTestDatabase()));
  after(() => database.drop());

  it('logs where it listens and which database it uses, and on SIGTERM drains, closes sockets with 1012 and exits 0', async () => {
    const server = spawnServer({ DATABASE_URL: database.url, PORT: '0', NODE_ENV: 'production', JWT_SECRET: SECRET, LOG_LEVEL: 'info' });
    const listening = await server.waitForLog('Parley is listening');
    const url = listening['url'] as string;
    // In production HOST defaults to every interface, which the URL names localhost.
    assert.match(url, /^http:\/\/localhost:\d+\/graphql$/);
    if (process.platform === 'linux') assert.equal(await accepts('127.0.0.2', Number(new URL(url).port)), true);
    assert.equal(listening['subscriptions'], url.replace('http', 'ws'));
    const redacted = new URL(database.url);
    if (redacted.password) redacted.password = '***';
    assert.equal(listening['database'], redacted.toString());
    assert.ok(!JSON.stringify(listening).includes(new URL(database.url).password || '\u0000'), 'the password is not logged');

    const session = dataOf(await postGraphQL(url, SignUpDocument, { username: 'process_user', password: PASSWORD })).signUp;
    const ws = connectWs(url.replace('http', 'ws'), { authorization: `Bearer ${session.token}` });
    await ws.connected;

    server.child.kill('SIGTERM');
    assert.equal((await ws.closed).code, 1012);
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
    await server.waitForLog('stopped', 1000);
  });

  for (const [label, env, variable] of [
    ['a non-numeric PORT', { PORT: 'abc' }, 'PORT'],
    ['a MESSAGE_MAX_LENGTH of 0', { MESSAGE_MAX_LENGTH: '0' }, 'MESSAGE_MAX_LENGTH'],
    ['a DATABASE_URL that is not a postgres URL', { DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    ['a JWT_TTL that is not a duration', { JWT_TTL: 'forever' }, 'JWT_TTL'],
    ['production without JWT_SECRET', { NODE_ENV: 'production', JWT_SECRET: undefined }, 'JWT_SECRET'],
    ['a HOST that is not an address', { HOST: 'not a host' }, 'HOST'],
    ['a HOST that is not an IPv4 address', { HOST: '300.1.2.3' }, 'HOST'],
    ['workers that could not hear each other', { WORKERS: '2', BUS: 'off' }, 'BUS'],
    ['BUS=redis without REDIS_URL', { BUS: 'redis', REDIS_URL: undefined }, 'REDIS_URL'],
    ['a WORKERS that is not a count', { WORKERS: 'many' }, 'WORKERS'],
  ] as const) {
    it(`refuses to start with ${label}, naming ${variable}`, async () => {
      const server = spawnServer({ DATABASE_URL: database.url, PORT: '0', JWT_SECRET: SECRET, ...env });
      const exit = await server.waitForExit();
      assert.equal(exit.code, 1);
      assert.match(server.text, new RegExp(`^Invalid configuration:\\n  ${variable}: `, 'm'));
    });
  }
});

describe('HOST: the address the server listens on', () => {
  let database: TestDatabase;
  before(async () => (database = await createTestDatabase()));
  after(() => database.drop());
  const linuxOnly = { skip: process.platform !== 'linux' && 'needs the whole of 127.0.0.0/8 on the loopback interface' };

  for (const [label, env, username] of [
    ['HOST=127.0.0.1', { HOST: '127.0.0.1' }, 'host_explicit'],
    ['no HOST in development (the default)', { HOST: undefined }, 'host_default'],
  ] as const) {
    it(`with ${label} listens on 127.0.0.1 only, and the logged URL says so`, linuxOnly, async () => {
      const server = spawnServer({ DATABASE_URL: database.url, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info', ...env });
      const url = (await server.waitForLog('Parley is listening'))['url'] as string;
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
      dataOf(await postGraphQL(url, SignUpDocument, { username, password: PASSWORD }));
      assert.equal(await accepts('127.0.0.2', Number(new URL(url).port)), false, 'another loopback address is not served');
      server.child.kill('SIGTERM');
      assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
    });
  }

  it('with HOST=0.0.0.0 listens on every IPv4 address, and the logged URL names localhost', linuxOnly, async () => {
    const server = spawnServer({ DATABASE_URL: database.url, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info', HOST: '0.0.0.0' });
    const url = (await server.waitForLog('Parley is listening'))['url'] as string;
    assert.match(url, /^http:\/\/localhost:\d+\/graphql$/);
    assert.equal(await accepts('127.0.0.2', Number(new URL(url).port)), true);
    server.child.kill('SIGTERM');
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
  });
});

/** Whether a TCP connection to host:port is accepted (false when refused). */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' ? resolve(false) : reject(error)));
  });
}

describe('npm start without DATABASE_URL (embedded PostgreSQL)', () => {
  let dataDir: string;
  before(async () => ({ dataDir } = await makeEmbeddedDataDir('parley-embedded-')));
  after(() => removeEmbeddedDataDir(dataDir));

  it('keeps data and development tokens across restarts, and cleans up a postmaster left by a killed run', async () => {
    const env = { DATABASE_URL: undefined, JWT_SECRET: undefined, DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info' };
    const first = spawnServer(env);
    const firstUrl = (await first.waitForLog('Parley is listening', 60_000))['url'] as string;
    const session = dataOf(await postGraphQL(firstUrl, SignUpDocument, { username: 'embedded_user', password: PASSWORD })).signUp;
    const postmasterPid = Number((await readFile(path.join(dataDir, 'postgres/postmaster.pid'), 'utf8')).split('\n')[0]);

    first.child.kill('SIGKILL'); // no chance to stop PostgreSQL
    await first.exited;
    assert.doesNotThrow(() => process.kill(postmasterPid, 0), 'the postmaster outlives a SIGKILLed server');

    const second = spawnServer(env);
    await second.waitForLog('stopping a PostgreSQL postmaster left running by an earlier run', 60_000);
    const secondUrl = (await second.waitForLog('Parley is listening', 60_000))['url'] as string;
    // The account survived, and so did the generated JWT secret: the first run's token still works.
    assert.equal(dataOf(await postGraphQL(secondUrl, MeDocument, {}, session.token)).me.id, session.user.id);
    dataOf(await postGraphQL(secondUrl, SignInDocument, { username: 'embedded_user', password: PASSWORD }));

    const newPostmasterPid = Number((await readFile(path.join(dataDir, 'postgres/postmaster.pid'), 'utf8')).split('\n')[0]);
    second.child.kill('SIGTERM');
    assert.deepEqual(await second.waitForExit(), { code: 0, signal: null });
    assert.throws(() => process.kill(newPostmasterPid, 0), 'the embedded PostgreSQL is stopped with the server');
    assert.equal(existsSync(path.join(dataDir, 'postgres/postmaster.pid')), false);
  });
});
