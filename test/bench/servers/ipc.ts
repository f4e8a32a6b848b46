// The bench runner talks to each server process over IPC: it learns the port, asks how many subscribers are
// connected, and asks for a measurement of memory after a full GC (servers run with --expose-gc), or for a CPU
// profile of a measured window (`--cpu-prof`).
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export interface ServerReady {
  type: 'ready';
  port: number;
}

export interface MemoryReport {
  type: 'memory';
  heapUsed: number;
  external: number;
  rss: number;
}

export interface StatsReport {
  type: 'stats';
  /** Connected subscribers (sockets for the broadcast servers, room subscriptions for Parley). */
  subscribers: number;
  /** Parley only: events fanned out and GraphQL executions (group renders) so far. */
  events?: number;
  executions?: number;
}

/** A CPU profile was started, or stopped and written to `file` (V8's .cpuprofile JSON). */
export interface ProfileReport {
  type: 'profile';
  file?: string;
}

export type ServerMessage = ServerReady | MemoryReport | StatsReport | ProfileReport;
export type RunnerMessage =
  | { type: 'memory' }
  | { type: 'stats' }
  | { type: 'stop' }
  | { type: 'profile-start' }
  | { type: 'profile-stop'; file: string };

export function announce(port: number): void {
  process.send!({ type: 'ready', port } satisfies ServerReady);
}

/** Answers the runner's requests; `stop` runs the server's shutdown, then the process exits. */
export function serveRunner(stats: () => Omit<StatsReport, 'type'>, stop: () => Promise<void>): void {
  let profiler: Session | undefined;
  process.on('message', async (message: RunnerMessage) => {
    switch (message.type) {
      case 'memory': {
        const gc = (globalThis as { gc?: () => void }).gc;
        gc?.();
        gc?.();
        const { heapUsed, external, rss } = process.memoryUsage();
        process.send!({ type: 'memory', heapUsed, external, rss } satisfies MemoryReport);
        break;
      }
      case 'stats':
        process.send!({ type: 'stats', ...stats() } satisfies StatsReport);
        break;
      case 'stop':
        void stop().then(() => process.exit(0));
        break;
      case 'profile-start':
        profiler = new Session();
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
        await profiler.post('Profiler.start');
        process.send!({ type: 'profile' } satisfies ProfileReport);
        break;
      case 'profile-stop': {
        const { profile } = await profiler!.post('Profiler.stop');
        profiler!.disconnect();
        profiler = undefined;
        writeFileSync(message.file, JSON.stringify(profile));
        process.send!({ type: 'profile', file: message.file } satisfies ProfileReport);
        break;
      }
    }
  });
}

/** Reads a request body (the broadcast servers take the message to send as the body of POST /broadcast). */
export function readBody(request: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}
