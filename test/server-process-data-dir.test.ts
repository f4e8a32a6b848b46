// DATA_DIR belongs to one live process: a second `npm start` or an `npm run migrate` never stops the embedded
// PostgreSQL of a running server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MeDocument, SignInDocument, SignUpDocument } from './__generated__/graphql.js';
import { PASSWORD } from './helpers/fixtures.js';
import { dataOf, postGraphQL } from './helpers/http-client.js';
import { makeEmbeddedDataDir, processExists, removeEmbeddedDataDir, spawnServer as spawn_, type ServerProcess } from './helpers/server-process.js';

const started: ServerProcess[] = [];
function spawnServer(...args: Parameters<typeof spawn_>): ServerProcess {
  const server = spawn_(...args);
  started.push(server);
  return server;
}
after(() => {
  for (const server of started) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
});

async function postmasterPid(dataDir: string): Promise<number> {
  return Number((await readFile(path.join(dataDir, 'postgres/postmaster.pid'), 'utf8')).split('\n')[0]);
}

async function ownerFile(dataDir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(dataDir, 'owner.json'), 'utf8')) as Record<string, unknown>;
}

const linuxOnly = { skip: process.platform !== 'linux' && 'reads process start times from /proc' };

/** The start time of a process (field 22 of /proc/<pid>/stat), as the owner file records it; null without /proc. */
async function startTimeOf(pid: number): Promise<number | null> {
  if (process.platform !== 'linux') return null;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

/** The message of the process's fatal log line, with that of the error it carries. */
function fatalMessage(server: ServerProcess): string {
  const fatal = server.lines.find((line) => line['level'] === 60);
  assert.ok(fatal, `a fatal log line (got ${JSON.stringify(server.lines.map((l) => l.msg))}, ${server.text})`);
  return `${fatal.msg} (${(fatal['err'] as { message?: string } | undefined)?.message})`;
}

describe('DATA_DIR is owned by one live process', () => {
  let dataDir: string;
  let env: Record<string, string | undefined>;
  before(async () => ({ dataDir, env } = await makeEmbeddedDataDir('parley-owner-')));
  after(() => removeEmbeddedDataDir(dataDir));

  let first: ServerProcess;
  let firstUrl: string;
  let token: string;
  let firstPostmaster: number;

  it('the server records itself and its PostgreSQL in DATA_DIR/owner.json, logging every start step', async () => {
    first = spawnServer(env);
    firstUrl = (await first.waitForLog('Parley is listening', 60_000))['url'] as string;
    token = dataOf(await postGraphQL(firstUrl, SignUpDocument, { username: 'owner_user', password: PASSWORD })).signUp.token;
    firstPostmaster = await postmasterPid(dataDir);
    const owner = await ownerFile(dataDir);
    assert.equal(owner['pid'], first.child.pid);
    assert.equal(owner['startTime'], await startTimeOf(first.child.pid!));
    assert.deepEqual(owner['postgres'], { port: (owner['postgres'] as { port: number }).port, pid: firstPostmaster });
    const steps = first.lines.map((line) => line.msg);
    for (const step of ['initialising embedded PostgreSQL', 'initialised embedded PostgreSQL', 'starting embedded PostgreSQL', 'embedded PostgreSQL is ready', 'Parley is listening']) {
      assert.ok(steps.includes(step), `"${step}" is logged (got ${JSON.stringify(steps)})`);
    }
  });

  it('a second npm start on the same DATA_DIR exits 1 naming the owner, and the first server keeps answering', async () => {
    const second = spawnServer(env);
    assert.deepEqual(await second.waitForExit(60_000), { code: 1, signal: null });
    assert.match(fatalMessage(second), new RegExp(`DATA_DIR is in use by pid ${first.child.pid}\\b`));
    assert.ok(!second.lines.some((line) => /postmaster/.test(String(line.msg))), 'it did not touch the postmaster');

    assert.ok(processExists(firstPostmaster), 'the first server’s PostgreSQL still runs');
    assert.equal(await postmasterPid(dataDir), firstPostmaster);
    assert.equal(dataOf(await postGraphQL(firstUrl, MeDocument, {}, token)).me.username, 'owner_user');
    assert.equal((await ownerFile(dataDir))['pid'], first.child.pid, 'the owner file is untouched');
  });

  it('npm run migrate beside the running server uses its PostgreSQL, says so, and leaves it running', async () => {
    const migrate = spawnServer(env, { script: 'src/migrate.ts' });
    assert.deepEqual(await migrate.waitForExit(60_000), { code: 0, signal: null });
    const sharing = await migrate.waitForLog('DATA_DIR is in use by a running Parley: using its embedded PostgreSQL, which stays running', 1000);
    assert.equal(sharing['pid'], first.child.pid);
    const done = await migrate.waitForLog('already up to date', 1000);
    assert.equal(done['database'], `embedded PostgreSQL of pid ${first.child.pid} (${dataDir}/postgres)`);
    assert.ok(!migrate.lines.some((line) => /postmaster|starting embedded/.test(String(line.msg))), 'it started and stopped nothing');

    assert.ok(processExists(firstPostmaster), 'the server’s PostgreSQL still runs');
    dataOf(await postGraphQL(firstUrl, SignInDocument, { username: 'owner_user', password: PASSWORD }));
    assert.equal(dataOf(await postGraphQL(firstUrl, MeDocument, {}, token)).me.username, 'owner_user');
  });

  it('a clean stop gives DATA_DIR up: migrate alone then starts and stops a PostgreSQL of its own', async () => {
    first.child.kill('SIGTERM');
    assert.deepEqual(await first.waitForExit(), { code: 0, signal: null });
    assert.equal(existsSync(path.join(dataDir, 'owner.json')), false, 'owner.json is removed');
    assert.equal(existsSync(path.join(dataDir, 'postgres/postmaster.pid')), false);

    const migrate = spawnServer(env, { script: 'src/migrate.ts' });
    assert.deepEqual(await migrate.waitForExit(60_000), { code: 0, signal: null });
    const done = await migrate.waitForLog('already up to date', 1000);
    assert.equal(done['database'], `embedded PostgreSQL (${dataDir}/postgres)`);
    assert.equal(existsSync(path.join(dataDir, 'owner.json')), false);
    assert.equal(existsSync(path.join(dataDir, 'postgres/postmaster.pid')), false, 'its PostgreSQL is stopped');
  });

  it('a live process named in owner.json keeps a server out, while one that only has the same pid (reused) does not', linuxOnly, async () => {
    // A live process with the recorded start time: the owner.
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await writeFile(path.join(dataDir, 'owner.json'), JSON.stringify({ pid: holder.pid, startTime: await startTimeOf(holder.pid!), command: 'server' }));
      const refused = spawnServer(env);
      assert.deepEqual(await refused.waitForExit(60_000), { code: 1, signal: null });
      assert.match(fatalMessage(refused), new RegExp(`DATA_DIR is in use by pid ${holder.pid}\\b`));
    } finally {
      holder.kill('SIGKILL');
    }

    // This test process is alive, but started at another time than the record says: a reused pid, not the owner.
    await writeFile(path.join(dataDir, 'owner.json'), JSON.stringify({ pid: process.pid, startTime: (await startTimeOf(process.pid))! - 1, command: 'server' }));
    const server = spawnServer(env);
    await server.waitForLog('DATA_DIR was held by a process that is gone: taking it over', 60_000);
    const url = (await server.waitForLog('Parley is listening', 60_000))['url'] as string;
    assert.equal(dataOf(await postGraphQL(url, MeDocument, {}, token)).me.username, 'owner_user');
    assert.equal((await ownerFile(dataDir))['pid'], server.child.pid);
    server.child.kill('SIGTERM');
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null });
    assert.equal(existsSync(path.join(dataDir, 'owner.json')), false);
  });
});
