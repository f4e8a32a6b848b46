// Starting the embedded PostgreSQL never hangs silently: a step that cannot finish fails with PostgreSQL's reason,
// and the one start-up race that is not a fault (the chosen port taken before PostgreSQL binds it) is retried.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js';
import { makeEmbeddedDataDir, removeEmbeddedDataDir, spawnServer as spawn, stopPostmasterIn, type LogLine, type ServerProcess } from './helpers/server-process.js';
import { freePort } from '../src/db/free-port.js';

const started: ServerProcess[] = [];
after(() => {
  for (const server of started) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
});

describe('starting the embedded PostgreSQL', () => {
  let dataDir: string;
  before(async () => ({ dataDir } = await makeEmbeddedDataDir('parley-pgstart-')));
  after(() => removeEmbeddedDataDir(dataDir));

  it('retries on another port when the chosen one is taken before PostgreSQL binds it', async () => {
    // What happened on a busy CI machine: the port picked as free was in use by the time PostgreSQL bound it.
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const takenPort = (taken.address() as net.AddressInfo).port;
    const ports = [takenPort];
    const choosePort = async () => ports.shift() ?? (await freePort());

    const lines: LogLine[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
        done();
      },
    });
    try {
      const database = await startEmbeddedPostgres(dataDir, pino({ level: 'info' }, sink), { choosePort });
      try {
        assert.notEqual(database.port, takenPort);
        const retry = lines.find((line) => line.msg === 'the port chosen for the embedded PostgreSQL was taken: trying another');
        assert.equal(retry?.['port'], takenPort, JSON.stringify(lines.map((l) => l.msg)));
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        try {
          assert.equal((await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one, 1);
        } finally {
          await client.end();
        }
      } finally {
        await database.stop();
      }
      assert.equal(existsSync(path.join(dataDir, 'postgres/postmaster.pid')), false, 'stopped cleanly');
      assert.equal(existsSync(path.join(dataDir, 'owner.json')), false, 'DATA_DIR given up');
    } finally {
      taken.close();
    }
  });

  it('a PostgreSQL that cannot start fails the server at once: exit 1 with PostgreSQL’s own reason', async () => {
    // A cluster PostgreSQL refuses: a setting it cannot parse.
    const config = path.join(dataDir, 'postgres/postgresql.conf');
    await writeFile(config, `${await readFile(config, 'utf8')}\nshared_buffers = 'plenty'\n`);
    const server = spawn({ DATABASE_URL: undefined, JWT_SECRET: undefined, DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info' });
    started.push(server);
    assert.deepEqual(await server.waitForExit(60_000), { code: 1, signal: null });
    const fatal = server.lines.find((line) => line['level'] === 60);
    const error = (fatal?.['err'] as { message?: string } | undefined)?.message;
    assert.match(String(error), /^embedded PostgreSQL in .* did not start: exit code \d+: .*shared_buffers/, JSON.stringify(server.lines));
    assert.equal(existsSync(path.join(dataDir, 'owner.json')), false, 'DATA_DIR given up');
  });

  it('a cluster whose initialisation was interrupted (the process killed during initdb) is made again', async () => {
    const interrupted = await mkdtemp(path.join(os.tmpdir(), 'parley-pgstart-'));
    try {
      await chmod(interrupted, 0o755);
      await mkdir(path.join(interrupted, 'postgres'), { mode: 0o700 });
      await writeFile(path.join(interrupted, 'postgres/PG_VERSION'), '18\n'); // initdb writes this first
      await writeFile(path.join(interrupted, 'postgres.initialising'), '12345\n');
      const database = await startEmbeddedPostgres(interrupted, pino({ level: 'silent' }));
      try {
        const client = new pg.Client({ connectionString: database.url });
        await client.connect();
        await client.end();
      } finally {
        await database.stop();
      }
      assert.equal(existsSync(path.join(interrupted, 'postgres.initialising')), false);
    } finally {
      await stopPostmasterIn(interrupted);
      await rm(interrupted, { recursive: true, force: true });
    }
  });
});
