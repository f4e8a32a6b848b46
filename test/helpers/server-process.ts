import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { AsyncQueue } from './async-queue.js';

const ROOT = path.join(import.meta.dirname, '../..');

/** One JSON log line of the server. */
export type LogLine = Record<string, unknown> & { msg?: string };

/** `npm start`'s command (node with tsx on src/main.ts) in a child process, with its JSON logs. */
export interface ServerProcess {
  child: ChildProcess;
  logs: AsyncQueue<LogLine>;
  /** Everything written to stderr and non-JSON stdout. */
  readonly text: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits for a log line whose msg is `msg`. */
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
}

export function spawnServer(env: Record<string, string | undefined>): ServerProcess {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete childEnv[key];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = new AsyncQueue<LogLine>();
  let text = '';
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        text += `${line}\n`;
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    logs,
    get text() {
      return text;
    },
    exited,
    async waitForLog(msg, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = await logs.take(Math.max(1, deadline - Date.now()), `log "${msg}" (output so far: ${text})`);
        if (line.msg === msg) return line;
      }
    },
  };
}
