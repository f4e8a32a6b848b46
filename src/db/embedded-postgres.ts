import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { lockDataDir, type DataDirOwner } from './data-dir-lock.js';
import { initialise, postgresBinaries, postgresUser, startPostmaster, stopLeftoverPostmaster } from './postmaster.js';
import { atExit } from './exit-cleanups.js';
import { freePort } from './free-port.js';

/** A running embedded PostgreSQL cluster, owned by this process. */
export interface EmbeddedDatabase {
  /** Connection URL of its `postgres` database. */
  url: string;
  port: number;
  /** Stops the postmaster (fast shutdown) and gives up the data directory; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** What holds the data directory, recorded in its owner file: `server` (default) or `migrate`. */
  command?: string;
  /** Picks the TCP port for each attempt to start. Default: a free loopback port. */
  choosePort?: () => Promise<number>;
}

interface ClusterSecrets {
  password: string;
}


/**
 * Starts (initialising on first use) a PostgreSQL cluster whose data lives in `<dataDir>/postgres`, on a free
 * loopback port, after taking ownership of `dataDir` (`dataDir/owner.json`). A postmaster left running by an
 * owner that is gone (a SIGKILLed server) is stopped first; a live owner's is never touched.
 *
 * The postmaster runs in a process group of its own, so a signal to this process's group (Ctrl-C in a terminal,
 * systemd's SIGTERM) reaches only this process, which then stops PostgreSQL itself. Every step is bounded in time.
 * @throws DataDirInUseError when another live process owns `dataDir`; otherwise an Error saying what failed,
 *   with PostgreSQL's last lines.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger, options: EmbeddedPostgresOptions = {}): Promise<EmbeddedDatabase> {
  const databaseDir = path.join(dataDir, 'postgres');
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const lock = await lockDataDir(dataDir, options.command ?? 'server');
  const forgetLock = atExit(() => lock.releaseSync());
  try {
    if (lock.previousOwner) {
      log.info({ pid: lock.previousOwner.pid }, 'DATA_DIR was held by a process that is gone: taking it over');
    }
    const secrets = await loadOrCreateSecrets(path.join(dataDir, 'postgres-secrets.json'));
    const binaries = await postgresBinaries();
    const runAs = await postgresUser(log);
    const initialising = path.join(dataDir, 'postgres.initialising');
    if (existsSync(initialising)) {
      log.warn({ databaseDir }, 'removing a cluster whose initialisation was interrupted');
      await rm(databaseDir, { recursive: true, force: true });
    }
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
      await writeFile(initialising, `${process.pid}\n`);
      await initialise(binaries, dataDir, databaseDir, secrets.password, runAs, log);
      await unlink(initialising);
    }
    await stopLeftoverPostmaster(databaseDir, log);
    const postmaster = await startPostmaster(binaries, databaseDir, runAs, options.choosePort ?? freePort, log);
    try {
      await lock.setPostgres({ port: postmaster.port, pid: postmaster.pid });
    } catch (error) {
      await postmaster.stop();
      throw error;
    }
    let stopping: Promise<void> | undefined;
    return {
      url: urlFor(secrets, postmaster.port),
      port: postmaster.port,
      stop: () =>
        (stopping ??= (async () => {
          try {
            await postmaster.stop();
          } finally {
            forgetLock();
            await lock.release();
          }
        })()),
    };
  } catch (error) {
    forgetLock();
    await lock.release();
    throw error;
  }
}

/** The URL of the embedded PostgreSQL that the live owner of `dataDir` runs (see `DataDirOwner.postgres`). */
export async function urlOfRunningEmbeddedPostgres(dataDir: string, owner: DataDirOwner): Promise<string | undefined> {
  if (!owner.postgres) return undefined;
  const secretsFile = path.join(dataDir, 'postgres-secrets.json');
  if (!existsSync(secretsFile)) return undefined;
  return urlFor(JSON.parse(await readFile(secretsFile, 'utf8')) as ClusterSecrets, owner.postgres.port);
}

function urlFor(secrets: ClusterSecrets, port: number): string {
  return `postgres://postgres:${encodeURIComponent(secrets.password)}@127.0.0.1:${port}/postgres`;
}

async function loadOrCreateSecrets(file: string): Promise<ClusterSecrets> {
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as ClusterSecrets;
  const secrets = { password: randomBytes(24).toString('base64url') };
  await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

