import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

const ROOT = path.join(import.meta.dirname, '../..');

/** One JSON log line of the server. */
export type LogLine = Record<string, unknown> & { msg?: string };

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** `npm start`'s command (node with tsx on src/main.ts), or another entry point, in a child process with its JSON logs. */
export interface ServerProcess {
  child: ChildProcess;
  /** Every JSON log line so far. */
  readonly lines: readonly LogLine[];
  /** Everything written to stderr and non-JSON stdout. */
  readonly text: string;
  exited: Promise<ExitStatus>;
  /** Resolves after the exit once every line of output has been read. */
  finished: Promise<ExitStatus>;
  /** `finished`, or a failure showing the output when the process has not ended within `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<ExitStatus>;
  /**
   * Waits for the next log line (after the one the previous call returned) whose msg is `msg`. Fails at once when
   * the process ends without writing it, showing what it did write.
   */
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
}

export interface SpawnOptions {
  /** Entry point. Default `src/main.ts` (what `npm start` runs). */
  script?: string;
  /** Leader of a process group of its own, as `npm start` in a terminal or under systemd is: signal `-pid`. */
  detached?: boolean;
  /**
   * Run `npm start` itself (npm, then node in its place through the script's `exec`), as a user does: npm forwards
   * the signals it gets to node, which then gets two of each signal sent to the group. `child` is npm.
   */
  viaNpm?: boolean;
}

export function spawnServer(env: Record<string, string | undefined>, options: SpawnOptions = {}): ServerProcess {
  // SIGTERM drains for DRAIN_DELAY (default 5 s) before stopping: short here unless a test sets it.
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DRAIN_DELAY: '50ms', ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  const [command, args] = options.viaNpm
    ? ['npm', ['start']]
    : [process.execPath, ['--import', 'tsx', options.script ?? 'src/main.ts']];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  const lines: LogLine[] = [];
  const events = new EventEmitter();
  let text = '';
  let ended: ExitStatus | undefined;
  let cursor = 0;

  let buffered = '';
  const takeLine = (line: string) => {
    if (!line) return;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      text += `${line}\n`;
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    parts.forEach(takeLine);
    events.emit('change');
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  const exited = new Promise<ExitStatus>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  // 'close' comes after every byte of output has been read.
  const finished = new Promise<ExitStatus>((resolve) =>
    child.on('close', (code, signal) => {
      takeLine(buffered);
      ended = { code, signal };
      events.emit('change');
      resolve(ended);
    }),
  );

  const describe = () =>
    `log lines so far: ${JSON.stringify(lines.map((l) => l.msg))}; other output: ${text.trim() || '(none)'}` +
    (ended ? `; the process ended (${ended.signal ?? `exit code ${ended.code}`})` : '');

  return {
    child,
    lines,
    get text() {
      return text;
    },
    exited,
    finished,
    waitForExit(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the process did not end within ${timeoutMs} ms (${describe()})`)), timeoutMs);
      });
      return Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
    },
    waitForLog(msg, timeoutMs = 30_000) {
      return new Promise<LogLine>((resolve, reject) => {
        const check = () => {
          const index = lines.findIndex((line, i) => i >= cursor && line.msg === msg);
          if (index >= 0) {
            cursor = index + 1;
            finish();
            resolve(lines[index]!);
          } else if (ended) {
            finish();
            reject(new Error(`the process ended without logging "${msg}" (${describe()})`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for log "${msg}" (${describe()})`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          events.off('change', check);
        };
        events.on('change', check);
        check();
      });
    },
  };
}

/** Whether a process with this pid exists (a zombie counts until it is reaped). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * For `after` hooks: stops at once a PostgreSQL still running in `<dataDir>/postgres` (a test that failed half-way
 * may leave one), so that its directory can be removed.
 */
export async function stopPostmasterIn(dataDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(path.join(dataDir, 'postgres/postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !processExists(pid)) return;
  process.kill(pid, 'SIGQUIT'); // immediate shutdown
  // Not a child of this process: there is no exit event to wait for.
  for (const deadline = Date.now() + 10_000; processExists(pid) && Date.now() < deadline; ) await delay(50);
}

/** A DATA_DIR of the test's own for servers with an embedded PostgreSQL, and the environment of such a server. */
export async function makeEmbeddedDataDir(prefix: string): Promise<{ dataDir: string; env: Record<string, string | undefined> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), prefix));
  await chmod(dataDir, 0o755); // as root the embedded server runs as the OS user postgres
  const env = { DATABASE_URL: undefined, JWT_SECRET: undefined, DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info' };
  return { dataDir, env };
}

/** Stops any postmaster a test left running in `dataDir`, then removes it. */
export async function removeEmbeddedDataDir(dataDir: string | undefined): Promise<void> {
  if (!dataDir) return;
  await stopPostmasterIn(dataDir);
  await rm(dataDir, { recursive: true, force: true });
}
