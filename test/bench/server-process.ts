import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { MemoryReport, ProfileReport, RunnerMessage, ServerMessage, StatsReport } from './servers/ipc.js';

export type ServerKind = 'raw-ws' | 'socket-io' | 'parley';

/** A server under test in its own process, pinned to one core when taskset is available. */
export interface BenchServer {
  kind: ServerKind;
  port: number;
  pid: number;
  /** Process CPU time (user + system) so far, in microseconds, from /proc/PID/stat. */
  cpuMicros(): number;
  memory(): Promise<MemoryReport>;
  stats(): Promise<StatsReport>;
  /** Starts a CPU profile of the process (the inspector's sampling profiler, every 200 µs). */
  startProfile(): Promise<void>;
  /** Stops it and writes it to `file` (a .cpuprofile that Chrome DevTools opens). */
  stopProfile(file: string): Promise<void>;
  stop(): Promise<void>;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export async function startBenchServer(kind: ServerKind, env: NodeJS.ProcessEnv, core: number | undefined): Promise<BenchServer> {
  // Servers run compiled, as deployed (`npm run build`): tsx's transform adds a property to every closure created
  // at run time, which would count as the server's memory.
  const entry = path.join(import.meta.dirname, '../../dist/test/bench/servers', `${kind}.js`);
  const child: ChildProcess = fork(entry, [], {
    env: { ...process.env, ...env },
    // BENCH_SERVER_FLAGS: more node/V8 flags for every server under test alike (e.g. young-generation sizing).
    execArgv: ['--expose-gc', '--max-old-space-size=4096', ...(process.env['BENCH_SERVER_FLAGS']?.split(' ').filter(Boolean) ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code} before it was ready`)));
    child.on('message', (message: ServerMessage) => {
      if (message.type === 'ready') resolve(message.port);
    });
  });
  if (core !== undefined) {
    const { execFileSync } = await import('node:child_process');
    execFileSync('taskset', ['-a', '-cp', String(core), String(child.pid)], { stdio: 'ignore' });
  }
  const ask = <T extends ServerMessage>(request: RunnerMessage, type: T['type']) =>
    new Promise<T>((resolve) => {
      const listener = (message: ServerMessage) => {
        if (message.type !== type) return;
        child.off('message', listener);
        resolve(message as T);
      };
      child.on('message', listener);
      child.send(request);
    });
  return {
    kind,
    port,
    pid: child.pid!,
    cpuMicros() {
      // Fields after the command name: state is field 3, utime 14, stime 15.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
    },
    memory: () => ask<MemoryReport>({ type: 'memory' }, 'memory'),
    stats: () => ask<StatsReport>({ type: 'stats' }, 'stats'),
    startProfile: async () => void (await ask<ProfileReport>({ type: 'profile-start' }, 'profile')),
    stopProfile: async (file) => void (await ask<ProfileReport>({ type: 'profile-stop', file }, 'profile')),
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send({ type: 'stop' });
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/** Kernel memory held by TCP sockets, in bytes (/proc/net/sockstat counts pages). */
/**
 * Kernel slab memory in bytes (/proc/meminfo `Slab`): its growth while sockets open is what the kernel keeps for
 * them (both ends of each loopback connection), which /proc/net/sockstat's TCP `mem` (buffered data only) misses.
 */
export function kernelSlabMemory(): number {
  const kilobytes = /^Slab:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1];
  return Number(kilobytes ?? 0) * 1024;
}

/**
 * CPU time (user + system) of PostgreSQL's processes, in microseconds, per process id. Compare two readings with
 * postgresCpuSince: backends come and go (the pool closes idle connections), so totals alone would drop.
 */
export function postgresCpuMicros(): Map<number, number> {
  return processCpuMicros('postgres');
}

/** CPU time (user + system) of every process whose command name starts with `name`, in microseconds, per process id. */
export function processCpuMicros(name: string): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // the process has ended
    }
    if (!stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).startsWith(name)) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    byPid.set(Number(entry), ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6);
  }
  return byPid;
}

/** CPU time since `before` (a processCpuMicros reading) of the processes named `name`: ended ones left out, new ones counted whole. */
export function processCpuSince(name: string, before: Map<number, number>): number {
  let total = 0;
  for (const [pid, micros] of processCpuMicros(name)) total += micros - (before.get(pid) ?? 0);
  return total;
}

/** PostgreSQL CPU time since `before`, in microseconds: processes that ended meanwhile are left out, new ones counted whole. */
export function postgresCpuSince(before: Map<number, number>): number {
  return processCpuSince('postgres', before);
}

/** This process's CPU time (user + system) so far, in microseconds. */
export function ownCpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/**
 * Waits until the servers together use under 5% of a core over half a second (at most `limitMs`, default 120 s);
 * returns how long that took. PostgreSQL is not watched: other work on the machine may use it.
 */
export async function untilQuiet(servers: BenchServer[], limitMs = 120_000): Promise<number> {
  const started = performance.now();
  const cpu = () => servers.reduce((sum, server) => sum + server.cpuMicros(), 0);
  await delay(200); // a benchmark pause, not a test synchronization: let stray probes land before counting
  for (;;) {
    const before = cpu();
    await delay(500);
    if (cpu() - before <= 25_000 || performance.now() - started > limitMs) return performance.now() - started;
  }
}
