// Ctrl-C in a terminal and systemd's SIGTERM signal the whole process group, and `npm start` forwards its own copy:
// the server gets the signal more than once, and so would the embedded PostgreSQL if it shared the group.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MeDocument, SignUpDocument } from './__generated__/graphql.js';
import { PASSWORD } from './helpers/fixtures.js';
import { dataOf, postGraphQL } from './helpers/http-client.js';
import { makeEmbeddedDataDir, processExists, removeEmbeddedDataDir, spawnServer as spawn, stopPostmasterIn, type ServerProcess } from './helpers/server-process.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-server.js';
import { connectWs } from './helpers/ws-client.js';

const started: ServerProcess[] = [];
function spawnServer(...args: Parameters<typeof spawn>): ServerProcess {
  const server = spawn(...args);
  started.push(server);
  return server;
}
after(() => {
  for (const server of started) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) continue;
    try {
      process.kill(-server.child.pid!, 'SIGKILL'); // the group, for those started detached
    } catch {
      server.child.kill('SIGKILL');
    }
  }
});

describe('signals to the process group, with the embedded PostgreSQL', () => {
  let dataDir: string;
  let env: Record<string, string | undefined>;
  before(async () => ({ dataDir, env } = await makeEmbeddedDataDir('parley-signals-')));
  after(() => removeEmbeddedDataDir(dataDir));

  for (const [label, signal, count, viaNpm] of [
    ['npm start and SIGINT to its group (Ctrl-C in a terminal; npm forwards a copy)', 'SIGINT', 1, true],
    ['npm start and SIGTERM to its group (systemd; npm forwards a copy)', 'SIGTERM', 1, true],
    ['two SIGINTs in a row to the group', 'SIGINT', 2, false],
  ] as const) {
    it(`${label} ends in "stopped", exit 0 and a cleanly stopped PostgreSQL`, async () => {
      const server = spawnServer(env, { detached: true, viaNpm });
      const url = (await server.waitForLog('Parley is listening', 60_000))['url'] as string;
      const session = dataOf(await postGraphQL(url, SignUpDocument, { username: `signal_${signal}_${count}_${viaNpm ? 'npm' : 'node'}`.toLowerCase(), password: PASSWORD })).signUp;
      assert.equal(dataOf(await postGraphQL(url, MeDocument, {}, session.token)).me.id, session.user.id);
      const postmaster = Number((await readFile(path.join(dataDir, 'postgres/postmaster.pid'), 'utf8')).split('\n')[0]);
      const ws = connectWs(url.replace('http', 'ws'), { authorization: `Bearer ${session.token}` });
      await ws.connected;

      for (let i = 0; i < count; i++) process.kill(-server.child.pid!, signal);

      const expected = signal === 'SIGTERM' ? [1012, 'restart (drain)'] : [1001, 'going away'];
      assert.equal((await ws.closed).code, expected[0], `sockets are closed as ${expected[1]}`);
      assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
      const messages = server.lines.map((line) => line.msg);
      assert.ok(messages.includes('stopped'), `"stopped" is logged (got ${JSON.stringify(messages)})`);
      assert.ok(!messages.includes('forced exit: the shutdown had not finished'));
      assert.equal(messages.filter((msg) => msg === 'shutting down').length, 1);
      assert.ok(!server.lines.some((line) => line['level'] === 50), 'no errors while stopping');
      assert.equal(processExists(postmaster), false, 'PostgreSQL has exited');
      assert.equal(existsSync(path.join(dataDir, 'postgres/postmaster.pid')), false, 'PostgreSQL shut down cleanly');
      assert.equal(existsSync(path.join(dataDir, 'owner.json')), false, 'DATA_DIR is given up');
    });
  }

  it('a SIGTERM to the group during start-up (here: while initialising) stops the server once it is up', async () => {
    const freshDir = await mkdtemp(path.join(os.tmpdir(), 'parley-signals-'));
    try {
      await chmod(freshDir, 0o755);
      const server = spawnServer({ ...env, DATA_DIR: freshDir }, { detached: true });
      await server.waitForLog('initialising embedded PostgreSQL', 60_000);
      process.kill(-server.child.pid!, 'SIGTERM');
      assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
      const messages = server.lines.map((line) => line.msg);
      // Almost always 'shutting down once start-up has finished'; on a very slow machine the signal may arrive later.
      assert.ok(messages.includes('shutting down once start-up has finished') || messages.includes('shutting down'), JSON.stringify(messages));
      assert.ok(messages.includes('stopped'), JSON.stringify(messages));
      assert.equal(existsSync(path.join(freshDir, 'postgres/postmaster.pid')), false, 'PostgreSQL shut down cleanly');
      assert.equal(existsSync(path.join(freshDir, 'owner.json')), false);
    } finally {
      await stopPostmasterIn(freshDir);
      await rm(freshDir, { recursive: true, force: true });
    }
  });
});

describe('signals with an external DATABASE_URL', () => {
  let database: TestDatabase;
  before(async () => (database = await createTestDatabase()));
  after(() => database.drop());

  it('two SIGINTs in a row still end in "stopped" and exit 0', async () => {
    const server = spawnServer({ DATABASE_URL: database.url, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info' });
    await server.waitForLog('Parley is listening');
    server.child.kill('SIGINT');
    server.child.kill('SIGINT');
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
    await server.waitForLog('stopped', 1000);
  });

  it('a second SIGINT while shutting down (Ctrl-C pressed again at once) is ignored, and says so', async () => {
    const server = spawnServer({ DATABASE_URL: database.url, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info' });
    await server.waitForLog('Parley is listening');
    server.child.kill('SIGINT');
    await server.waitForLog('shutting down');
    server.child.kill('SIGINT'); // unless the shutdown has already finished: it is quick here
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
    await server.waitForLog('stopped', 1000);
    assert.ok(!server.lines.some((line) => String(line.msg).startsWith('forced exit')));
  });
});
