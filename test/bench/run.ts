// `npm run bench`: raw ws (the floor), Socket.IO 4 and Parley, measured with the same client harness, rotating
// servers (A, B, C, A, B, C, …). Servers run pinned to core 0, the load generator to core 1. `--quick` runs a
// small smoke version; `--write` replaces BENCHMARKS.md's sections with the report's (keeping the sections of scenarios
// run on their own, such as `--search-only`). For exploring one figure:
// `--sizes=10000` (fan-out sizes), `--servers=raw-ws,parley`, `--skip-sustained` (not with --write);
// `--presence-only` runs only the presence storm (test/bench/presence-storm.ts); `--search-only` only message
// search over 1,000,000 messages (test/bench/search.ts). `--processes 2` (or `--processes=2`) runs only the fan-out over
// several processes on one database (test/bench/processes.ts): single-process Parley, the processes over PostgreSQL
// LISTEN/NOTIFY and over Redis (REDIS_URL, default redis://127.0.0.1:6379), rounds interleaved; with it, `--sizes=N`
// sets the subscribers, `--rounds=N` the rounds, `--buses=postgres` the buses, `--cpu-prof` adds a profiled round, and
// `--write` replaces only its own section of BENCHMARKS.md.
// Paced fan-out (test/bench/paced.ts, issue 14) runs in every full run; `--paced-only` runs only it (with `--sizes=`
// picking scenarios by subscribers, `--servers=`, `--rounds=N` (default 2), `--client-mix=all|sample` (default all:
// every subscriber decodes every message), and `--cpu-prof[=label]`, which adds a profiled round of the 5,000
// scenario per server and a section titled with the label, e.g. `--cpu-prof=before`); `--paced-only --write`
// replaces only the paced sections it produced. BENCH_SERVER_FLAGS adds node/V8 flags to every server under test
// alike (e.g. BENCH_SERVER_FLAGS=--trace-gc).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { withKeptSections, withSection } from './report-sections.js';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { BENCH_JWT_SECRET, createParleyFixtures } from './parley-fixtures.js';
import { presenceStormReport } from './presence-storm.js';
import { processesReport, type Setup } from './processes.js';
import { searchReport } from './search.js';
import { runFanOut, runSustained, type FanOutResult } from './scenarios.js';
import { PACED_SCENARIOS, QUICK_PACED_SCENARIOS, runPacedScenarios, sampleEveryFor, type ClientMix, type PacedResult } from './paced.js';
import { renderPacedSections } from './paced-report.js';
import { startBenchServer, type BenchServer, type ServerKind } from './server-process.js';
import { median } from './stats.js';

const quick = process.argv.includes('--quick');
const write = process.argv.includes('--write');
const skipSustained = process.argv.includes('--skip-sustained');
const presenceOnly = process.argv.includes('--presence-only');
const searchOnly = process.argv.includes('--search-only');
const pacedOnly = process.argv.includes('--paced-only');
const option = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1]?.split(',');
// `--processes 2` as the issue writes it, or `--processes=2` as the other options are written.
const processesArg = option('processes')?.[0] ?? (process.argv.includes('--processes') ? process.argv[process.argv.indexOf('--processes') + 1] : undefined);
const processes = processesArg === undefined ? undefined : Number(processesArg);
if (processes !== undefined && !(Number.isInteger(processes) && processes >= 2)) throw new Error('--processes takes a number of processes, 2 or more');
if (processes !== undefined) {
  if (write && (quick || option('sizes') || option('buses'))) throw new Error('--write with --processes needs its whole scenario (no --quick, --sizes or --buses)');
} else if (pacedOnly) {
  if (write && (quick || option('sizes') || option('servers') || option('client-mix'))) throw new Error('--write with --paced-only needs its whole scenario (no --quick, --sizes, --servers or --client-mix)');
} else if (write && (skipSustained || presenceOnly || searchOnly || option('sizes') || option('servers') || option('client-mix'))) throw new Error('--write needs the whole benchmark');
const SIZES = option('sizes')?.map(Number) ?? (quick ? [200, 1000] : [1000, 10_000]);
const ROUNDS = quick ? 1 : 3;
const MESSAGES = quick ? 5 : 20;
/**
 * One-at-a-time messages per round at `size` subscribers: at least 100,000 deliveries (/proc counts CPU in 10 ms
 * ticks: 20 messages to 1,000 subscribers were ~40 ticks, ±15% from round to round).
 */
const fanOutMessages = (size: number) => (quick ? MESSAGES : Math.max(MESSAGES, Math.ceil(100_000 / size)));
const SUSTAINED_RATES = quick ? [100, 300] : [250, 500, 750, 1000, 1250, 1500, 2000];
const SUSTAINED_SECONDS = quick ? 3 : 30;
const KINDS = (option('servers') ?? ['raw-ws', 'socket-io', 'parley']) as ServerKind[];
const PRESENCE_USERS = quick ? 1000 : 5000;
const sizeFilter = option('sizes')?.map(Number);
const PACED = (quick ? QUICK_PACED_SCENARIOS : PACED_SCENARIOS).filter((s) => !sizeFilter || sizeFilter.includes(s.subscribers));
const PACED_ROUNDS = Number(option('rounds')?.[0] ?? 2);
if (!(Number.isInteger(PACED_ROUNDS) && PACED_ROUNDS >= 1)) throw new Error('--rounds takes a number of rounds, 1 or more');
const mixOption = option('client-mix')?.[0] as ClientMix | undefined;
if (mixOption !== undefined && mixOption !== 'all' && mixOption !== 'sample') throw new Error('--client-mix is all or sample');
/** Paced: every subscriber a full client unless told otherwise; one-at-a-time: ~200 full clients unless told otherwise. */
const PACED_MIX: ClientMix = mixOption ?? 'all';
const FAN_OUT_MIX: ClientMix = mixOption ?? 'sample';
const cpuProfArg = process.argv.find((arg) => arg === '--cpu-prof' || arg.startsWith('--cpu-prof='));
const PROFILE_LABEL = cpuProfArg === undefined ? undefined : (cpuProfArg.split('=')[1] ?? 'latest');
const PROFILED = PACED.find((s) => s.subscribers === (quick ? 1000 : 5000)) ?? PACED[0];

function pin(core: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function benchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = process.env['DATABASE_URL'];
  if (!serverUrl) throw new Error('set DATABASE_URL to a PostgreSQL server the benchmark may create a database on');
  const name = `parley_bench_${process.pid}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(sql);
    await client.end();
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' }); // the servers run from dist/
const pinned = os.cpus().length > 1 && pin(1);
const database = await benchDatabase();
const servers = new Map<ServerKind, BenchServer>();
// Benchmark sockets share 100 users' tokens and send in bulk: the per-user socket cap and the rate limits
// (production defaults) are off here. The scenarios measure one process alone (BUS=off: no bus, presence in
// memory); --processes sets BUS per setup.
const serverEnv = {
  BUS: 'off',
  DATABASE_URL: database.url,
  JWT_SECRET: BENCH_JWT_SECRET,
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  PORT: '0',
  WS_MAX_SOCKETS_PER_USER: '0',
  RATE_LIMITS: 'off',
};
if (processes !== undefined) {
  try {
    const report = await processesReport(database.url, serverEnv, {
      processes,
      subscribers: Number(option('sizes')?.[0] ?? (quick ? 2000 : 10_000)),
      messages: MESSAGES,
      rounds: Number(option('rounds')?.[0] ?? ROUNDS),
      setups: ['single', ...((option('buses') ?? ['postgres', 'redis']) as Setup[])],
      core: pinned ? 0 : undefined,
      redisUrl: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
      profileDir: process.argv.includes('--cpu-prof') ? path.join(os.tmpdir(), `parley-bench-profiles-${process.pid}`) : undefined,
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
      pinned,
    });
    console.log(report);
    if (write) {
      const file = path.join(import.meta.dirname, '../../BENCHMARKS.md');
      writeFileSync(file, withSection(readFileSync(file, 'utf8'), report));
    }
  } finally {
    await database.drop();
  }
  process.exit(0);
}
if (presenceOnly) {
  try {
    console.log(await presenceStormReport(database.url, serverEnv, pinned ? 0 : undefined, PRESENCE_USERS));
  } finally {
    await database.drop();
  }
  process.exit(0);
}
if (searchOnly) {
  try {
    const options = quick ? { messages: 100_000, rounds: 10, sendSeconds: 3, sendRuns: 1 } : { messages: 1_000_000, rounds: 40, sendSeconds: 15, sendRuns: 3 };
    console.log(await searchReport(database.url, serverEnv, pinned ? 0 : undefined, options));
  } finally {
    await database.drop();
  }
  process.exit(0);
}
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
async function pacedSections(fixtures: Awaited<ReturnType<typeof createParleyFixtures>>): Promise<{ results: PacedResult[]; sections: string[] }> {
  const profile = PROFILE_LABEL !== undefined && PROFILED ? { scenario: PROFILED, dir: path.join(os.tmpdir(), `parley-bench-profiles-${process.pid}`) } : undefined;
  const { results, profiles } = await runPacedScenarios(servers, fixtures, { scenarios: PACED, kinds: KINDS, rounds: PACED_ROUNDS, mix: PACED_MIX, profile });
  const sections = renderPacedSections(results, {
    scenarios: PACED,
    kinds: KINDS,
    rounds: PACED_ROUNDS,
    mix: PACED_MIX,
    command,
    pinned,
    profiled: profile && { scenario: profile.scenario, label: PROFILE_LABEL!, profiles },
  });
  return { results, sections };
}
if (pacedOnly) {
  try {
    for (const kind of KINDS) servers.set(kind, await startBenchServer(kind, serverEnv, pinned ? 0 : undefined));
    const fixtures = await createParleyFixtures(database.url, { fanOutUsers: 100, rooms: 0, membersPerRoom: 0 });
    const { sections } = await pacedSections(fixtures);
    console.log(sections.join('\n'));
    if (write) {
      const file = path.join(import.meta.dirname, '../../BENCHMARKS.md');
      writeFileSync(file, sections.reduce(withSection, readFileSync(file, 'utf8')));
    }
  } finally {
    await Promise.all([...servers.values()].map((server) => server.stop()));
    await database.drop();
  }
  process.exit(0);
}
try {
  for (const kind of KINDS) servers.set(kind, await startBenchServer(kind, serverEnv, pinned ? 0 : undefined));
  const fixtures = await createParleyFixtures(database.url, { fanOutUsers: 100, rooms: 100, membersPerRoom: 10 });

  const results: FanOutResult[] = [];
  for (const size of SIZES) {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const kind of KINDS) {
        const result = await runFanOut(servers.get(kind)!, fixtures, size, fanOutMessages(size), sampleEveryFor(FAN_OUT_MIX, size));
        results.push(result);
        console.error(
          `round ${round} ${kind} ×${size}: p99 ${result.p99Ms.toFixed(1)} ms, ${result.cpuMicrosPerDelivery.toFixed(1)} µs/delivery (tail ${result.tailMicrosPerDelivery.toFixed(2)})`,
        );
      }
    }
  }
  const paced = await pacedSections(fixtures);
  // Sustained sends: first one transaction per message (the target's terms), then with group commit (the default).
  const sustained: SustainedRun[] = [];
  for (const groupCommit of skipSustained ? [] : [false, true]) {
    const server = await startBenchServer('parley', { ...serverEnv, SEND_GROUP_COMMIT: String(groupCommit) }, pinned ? 0 : undefined);
    try {
      sustained.push({ groupCommit, ...(await runSustained(server, fixtures, SUSTAINED_RATES, SUSTAINED_SECONDS)) });
    } finally {
      await server.stop();
    }
  }
  const check = new pg.Client({ connectionString: database.url });
  await check.connect();
  const stored = Number((await check.query('SELECT count(*) FROM messages m JOIN rooms r ON r.id = m.room_id WHERE r.id <> $1', [fixtures.fanOutRoom])).rows[0].count);
  await check.end();

  const presence = await presenceStormReport(database.url, serverEnv, pinned ? 0 : undefined, PRESENCE_USERS);
  const report = `${renderReport(results, sustained, stored, pinned)}\n${paced.sections.join('\n')}\n${presence}`;
  console.log(report);
  if (write) {
    const file = path.join(import.meta.dirname, '../../BENCHMARKS.md');
    writeFileSync(file, withKeptSections(readFileSync(file, 'utf8'), report));
  }
} finally {
  await Promise.all([...servers.values()].map((server) => server.stop()));
  await database.drop();
}

type SustainedRun = Awaited<ReturnType<typeof runSustained>> & { groupCommit: boolean };

function renderReport(results: FanOutResult[], sustained: SustainedRun[], stored: number, pinnedCores: boolean): string {
  const summary = (kind: ServerKind, size: number) => {
    const rows = results.filter((r) => r.server === kind && r.subscribers === size);
    const m = (pick: (r: FanOutResult) => number) => median(rows.map(pick));
    return {
      p50: m((r) => r.p50Ms),
      p99: m((r) => r.p99Ms),
      last: m((r) => r.lastMs),
      cpu: m((r) => r.cpuMicrosPerDelivery),
      heap: m((r) => r.heapBytesPerSubscriber),
      kernel: m((r) => r.kernelBytesPerSocket),
      ramp: m((r) => r.rampPerSecond),
      rampServer: m((r) => r.rampServerMicrosPerConnection),
      rampBusy: m((r) => r.rampLoadGeneratorBusy),
      errors: Math.max(...rows.map((r) => r.rampErrors)),
      executions: rows[0]?.executionsPerEvent,
    };
  };
  const lines: string[] = [];
  lines.push('# Benchmarks', '');
  lines.push(`Command: \`npm run bench${quick ? ' -- --quick' : ''}\` (DATABASE_URL pointing at the machine's PostgreSQL; Parley as one process alone, BUS=off).`);
  lines.push(
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, loopback only.`,
    `Servers pinned to core 0 and the load generator to core 1: ${pinnedCores ? 'yes' : 'no (taskset unavailable)'}; PostgreSQL unpinned. Servers run compiled (npm run build), as deployed.`,
    `Each fan-out figure is the median of ${ROUNDS} rotated rounds (raw ws, Socket.IO, Parley, …), ${quick ? MESSAGES : `${MESSAGES} (at 1,000 subscribers: ${fanOutMessages(1000)}, so that a round makes at least 100,000 deliveries)`} messages of ~200 bytes per round, sent one after another.`,
    `Subscribers: ${FAN_OUT_MIX === 'all' ? 'every one is a full client that decodes and times every message' : 'one in ~200 is a full client that decodes and times every message; the rest are sinks that count frames'}. Same mix for all three. Sustained sends: one timed member per room.`,
    'CPU is user+system time from /proc/PID/stat: the server process\'s (for fan-out from the first send until a second after the last subscriber had the last message, so work the server defers counts: Parley\'s search indexer and GC were 0.5-2.5 µs per delivery at 1,000 subscribers after the window that ended at the last delivery), and for sustained sends also PostgreSQL\'s (all its processes) and the load generator\'s. Memory is V8 heap + external after GC; the kernel\'s share is the growth of slab memory (/proc/meminfo) per connection, both ends of loopback, apart.',
    '',
  );
  for (const size of SIZES) {
    const floor = summary('raw-ws', size);
    lines.push(`## Fan-out to ${size.toLocaleString('en')} subscribers of one room`, '');
    lines.push('| server | p50 ms | p99 ms | to last ms | CPU µs/delivery | × raw | heap+ext B/sub | kernel slab B/conn | ramp conn/s | ramp errors | ramp server µs/conn | load generator busy |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const kind of KINDS) {
      const s = summary(kind, size);
      lines.push(
        `| ${kind} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.last.toFixed(1)} | ${s.cpu.toFixed(1)} | ${(s.cpu / floor.cpu).toFixed(2)} | ${s.heap.toFixed(0)} | ${s.kernel.toFixed(0)} | ${s.ramp.toFixed(0)} | ${s.errors} | ${s.rampServer.toFixed(0)} | ${(100 * s.rampBusy).toFixed(0)}% |`,
      );
    }
    lines.push('');
  }
  const best = (groupCommit: boolean) => Math.max(0, ...(sustained.find((r) => r.groupCommit === groupCommit)?.steps ?? []).filter((s) => s.holds).map((s) => s.rate));
  const sentInAll = sustained.reduce((sum, run) => sum + run.sentInAll, 0);
  for (const run of sustained) {
    lines.push(
      run.groupCommit
        ? '## Sustained sends with persistence and group commit (SEND_GROUP_COMMIT=true, the default): 100 rooms × 10 members'
        : '## Sustained sends with persistence, one transaction per message (SEND_GROUP_COMMIT=false): 100 rooms × 10 members',
      '',
    );
    lines.push(
      '| rate /s | sent | failed | delivered / expected | p99 ms | holds | server CPU µs/send | PostgreSQL CPU µs/send | load generator CPU µs/send |',
      '|---|---|---|---|---|---|---|---|---|',
    );
    for (const step of run.steps) {
      lines.push(
        `| ${step.rate} | ${step.sent} | ${step.failed} | ${step.delivered} / ${step.expected} | ${step.p99Ms.toFixed(1)} | ${step.holds ? 'yes' : 'no'} | ${step.serverMicrosPerSend.toFixed(0)} | ${step.postgresMicrosPerSend.toFixed(0)} | ${step.loadGeneratorMicrosPerSend.toFixed(0)} |`,
      );
    }
    lines.push('', `Highest rate holding p99 < 100 ms for ${SUSTAINED_SECONDS} s: **${best(run.groupCommit)}/s**.`, '');
  }
  lines.push(`Messages in the database after both runs: ${stored} of ${sentInAll} acknowledged sends.`, '');

  const big = SIZES.at(-1)!;
  const small = SIZES[0]!;
  const [raw, sio, parley] = [summary('raw-ws', big), summary('socket-io', big), summary('parley', big)];
  const parleySmall = summary('parley', small);
  const rawSmall = summary('raw-ws', small);
  // What bounds the figures on this machine: the raw floor, the load generator's core, the CPU of all three parties.
  const cores = os.cpus().length;
  const perSend = (groupCommit: boolean) => {
    const steps = sustained.find((r) => r.groupCommit === groupCommit)?.steps ?? [];
    const step = steps.at(-1); // the highest rate tried: fixed costs are spread thinnest there
    if (!step) return 'n/a';
    const total = step.serverMicrosPerSend + step.postgresMicrosPerSend + step.loadGeneratorMicrosPerSend;
    return `${step.serverMicrosPerSend.toFixed(0)} server + ${step.postgresMicrosPerSend.toFixed(0)} PostgreSQL + ${step.loadGeneratorMicrosPerSend.toFixed(0)} load generator = ${total.toFixed(0)} µs of CPU per send at ${step.rate}/s, so ${cores} fully busy cores could carry at most ${Math.floor((cores * 1e6) / total)}/s`;
  };
  const targets: [string, boolean, string][] = [
    [`CPU per delivery at ${big}: ≤ 1.25× raw ws and below Socket.IO`, parley.cpu <= 1.25 * raw.cpu && parley.cpu < sio.cpu, `${(parley.cpu / raw.cpu).toFixed(2)}× raw, Socket.IO ${(sio.cpu / raw.cpu).toFixed(2)}×`],
    [`p99 ≤ 30 ms at ${small}`, parleySmall.p99 <= 30, `${parleySmall.p99.toFixed(1)} ms; the raw ws floor in this run: p99 ${rawSmall.p99.toFixed(1)} ms, last subscriber after ${rawSmall.last.toFixed(1)} ms`],
    [`p99 ≤ 1.5× raw ws at ${big}`, parley.p99 <= 1.5 * raw.p99, `${(parley.p99 / raw.p99).toFixed(2)}×`],
    ['memory ≤ 10 KB per subscriber (heap + external)', parley.heap <= 10_240, `${(parley.heap / 1024).toFixed(1)} KB`],
    ['ramp ≥ 2,000 fully subscribed connections/s, zero errors', parley.ramp >= 2000 && parley.errors === 0, `${parley.ramp.toFixed(0)}/s, ${parley.errors} errors; server ${parley.rampServer.toFixed(0)} µs of CPU per connection (${Math.floor(1e6 / parley.rampServer)}/s if it alone were the limit), load generator's core ${(100 * parley.rampBusy).toFixed(0)}% busy`],
    ['≥ 1,500 persisted sends/s at p99 < 100 ms, a transaction per message', best(false) >= 1500, `${best(false)}/s: ${perSend(false)}. With group commit: ${best(true)}/s: ${perSend(true)}`],
    ['GraphQL executions per event = distinct groups (1 here)', parley.executions === 1, `${parley.executions ?? 'n/a'}`],
    ['every acknowledged send is in the database', stored === sentInAll, `${stored} / ${sentInAll}`],
  ];
  lines.push('## Targets', '', '| target | met | measured |', '|---|---|---|');
  for (const [target, met, measured] of targets) lines.push(`| ${target} | ${met ? 'yes' : '**no**'} | ${measured} |`);
  lines.push('');
  return lines.join('\n');
}
