// Several processes (issue 13): the fan-out to one room's subscribers spread evenly over N Parley processes on one
// database, the sender on the first, with the bus between them over PostgreSQL LISTEN/NOTIFY and over Redis pub/sub,
// against single-process Parley (BUS=off, every subscriber on one process) in the same run. Each round starts the
// deployment afresh and stops it after, so an idle deployment's timers (search indexer, presence heartbeat) never
// run beside a measured one; setups are rotated from round to round so drift on the shared machine hits all alike.
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import WebSocket from 'ws';
import { closeClients, now, openClients, protocolFor, type LoadClient } from './clients.js';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import { createParleyFixtures, type ParleyFixtures } from './parley-fixtures.js';
import { sender, total, untilAllLive } from './scenarios.js';
import { processCpuMicros, processCpuSince, startBenchServer, untilQuiet, type BenchServer } from './server-process.js';
import { benchMessage, median, percentile, waitFor } from './stats.js';

export type Setup = 'single' | 'postgres' | 'redis';

export interface ProcessesOptions {
  processes: number;
  subscribers: number;
  /** Measured messages per round, sent one after another (each waits until everyone has it). */
  messages: number;
  rounds: number;
  setups: Setup[];
  /** Core the servers are pinned to (the load generator is on another); undefined: unpinned. */
  core: number | undefined;
  redisUrl: string;
  /** When set, one more round per setup, not measured, profiles every server process into this directory. */
  profileDir: string | undefined;
  /** The command line, for the report. */
  command: string;
  pinned: boolean;
}

/** Latency of the sampled subscribers of one side, in ms. */
interface SideLatency {
  samples: number;
  p50: number;
  p99: number;
  /** From the message's createdAt (its transaction's start in PostgreSQL). */
  createdP50: number;
  createdP99: number;
}

export interface ProcessesRound {
  setup: Setup;
  round: number;
  subscribers: number;
  connectErrors: number;
  deliveries: number;
  /** Server CPU (all its processes) per delivery, and each process's CPU per delivery it made itself. */
  cpuMicrosPerDelivery: number;
  cpuMicrosPerOwnDelivery: number[];
  postgresMicrosPerMessage: number;
  redisMicrosPerMessage: number;
  /** Subscribers on the sending process, and on the others (absent for a single process). */
  sending: SideLatency;
  other: SideLatency | undefined;
  /** Median time from a send until its last subscriber had it. */
  lastMs: number;
  lost: number;
  duplicated: number;
  /** Messages that had not reached every subscriber 10 s after they were sent. */
  stalled: number;
  /** How long after the subscriptions were live the servers took to go quiet (connection work done). */
  settleMs: number;
  /** Bus counters of the processes during the window, summed: hints received, gaps read from the logs. */
  busReceived: number;
  gapsHealed: number;
  eventsHealed: number;
  sendFailures: number;
}

const SAMPLE_EVERY = 25; // one full client (decodes and times every frame) in 25, the rest count frames
const WARM_UP_MESSAGES = 3;
const STALL_MS = 10_000;

/** Runs the scenario's rounds; returns the BENCHMARKS.md section in Markdown. */
export async function processesReport(databaseUrl: string, env: NodeJS.ProcessEnv, options: ProcessesOptions): Promise<string> {
  const channel = `bench_${process.pid}`;
  const envOf = (setup: Setup): NodeJS.ProcessEnv => {
    switch (setup) {
      case 'single':
        return { ...env, BUS: 'off', REDIS_URL: undefined };
      case 'postgres':
        return { ...env, BUS: 'postgres', BUS_CHANNEL: channel, REDIS_URL: undefined }; // presence in PostgreSQL too
      case 'redis':
        return { ...env, BUS: 'redis', BUS_CHANNEL: channel, REDIS_URL: options.redisUrl }; // presence in Redis too
    }
  };
  const start = async (setup: Setup): Promise<BenchServer[]> => {
    const servers: BenchServer[] = [];
    try {
      // One after another: the first migrates a fresh database.
      for (let i = 0; i < (setup === 'single' ? 1 : options.processes); i++) servers.push(await startBenchServer('parley', envOf(setup), options.core));
    } catch (error) {
      await Promise.all(servers.map((server) => server.stop()));
      throw error;
    }
    return servers;
  };
  const stop = (servers: BenchServer[]) => Promise.all(servers.map((server) => server.stop()));

  let fixtures: ParleyFixtures | undefined;
  const rounds: ProcessesRound[] = [];
  const profiles: { setup: Setup; process: number; deliveries: number; summary: ProfileSummary }[] = [];
  try {
    const total = options.rounds + (options.profileDir ? 1 : 0);
    for (let round = 1; round <= total; round++) {
      const profiling = round > options.rounds;
      // Rotated: A B C, B C A, C A B, …
      const order = options.setups.map((_, i) => options.setups[(i + round - 1) % options.setups.length]!);
      for (const setup of order) {
        const servers = await start(setup);
        try {
          fixtures ??= await createParleyFixtures(databaseUrl, { fanOutUsers: 100, rooms: 0, membersPerRoom: 0 }); // once migrated
          if (profiling) {
            mkdirSync(options.profileDir!, { recursive: true });
            const files = servers.map((_, i) => path.join(options.profileDir!, `${setup}-${i + 1}.cpuprofile`));
            const result = await runRound(setup, round, servers, fixtures, databaseUrl, options, files);
            files.forEach((file, i) =>
              profiles.push({ setup, process: i + 1, deliveries: result.deliveries / servers.length, summary: summarizeProfile(file) }),
            );
            console.error(`profiles: ${files.join(', ')}`);
          } else {
            const result = await runRound(setup, round, servers, fixtures, databaseUrl, options);
            rounds.push(result);
            console.error(
              `round ${round} ${setup}: quiet after ${(result.settleMs / 1000).toFixed(1)} s, ${result.cpuMicrosPerDelivery.toFixed(1)} µs/delivery, p99 ${result.sending.p99.toFixed(1)} ms sending / ${result.other?.p99.toFixed(1) ?? '-'} ms other, lost ${result.lost}, duplicated ${result.duplicated}`,
            );
          }
        } finally {
          await stop(servers);
        }
      }
    }
  } finally {
    await removeRedisKeys(options.redisUrl, channel);
  }
  return renderProcesses(rounds, profiles, options);
}

/** One deployment, `options.subscribers` subscribers of one room spread evenly over its processes, the sender on the first. */
async function runRound(
  setup: Setup,
  round: number,
  servers: BenchServer[],
  fixtures: ParleyFixtures,
  databaseUrl: string,
  options: ProcessesOptions,
  profileFiles?: string[],
): Promise<ProcessesRound> {
  const send = sender(servers[0]!, fixtures);
  const perServer = servers.map((_, i) => Math.floor(options.subscribers / servers.length) + (i < options.subscribers % servers.length ? 1 : 0));
  let offset = 0;
  const opened = await Promise.all(
    servers.map((server, i) => {
      const first = offset;
      offset += perServer[i]!;
      return openClients({
        kind: 'parley',
        port: server.port,
        count: perServer[i]!,
        sampleEvery: SAMPLE_EVERY,
        concurrency: Math.floor(256 / servers.length), // in batches, 256 handshakes in flight in all
        protocol: (index) =>
          protocolFor('parley', { token: fixtures.subscriberTokens[(first + index) % fixtures.subscriberTokens.length]!, roomId: fixtures.fanOutRoom }),
      });
    }),
  );
  const connectErrors = opened.reduce((sum, o) => sum + o.errors, 0);
  // Subscribers by process; a socket that failed to open is left out (counted in connectErrors).
  const bySide = opened.map((o) => o.clients.filter((c) => c.socket.readyState === WebSocket.OPEN));
  const clients = bySide.flat();
  try {
    await Promise.all(servers.map((server, i) => waitFor(async () => (await server.stats()).subscribers >= bySide[i]!.length, 120_000)));
    await untilAllLive(clients, () => send(benchMessage(now(), -1)));
    for (let k = 1; k <= WARM_UP_MESSAGES; k++) {
      const base = total(clients);
      await send(benchMessage(now(), -1));
      await waitFor(() => total(clients) >= base + clients.length, STALL_MS);
    }
    // Connecting leaves work behind that outlasts the subscriptions going live (with BUS on, each socket's presence is
    // written to the shared state, one write at a time per user): measure the fan-out alone, once that is done.
    const settleMs = await untilQuiet(servers);
    for (const client of clients) {
      if (client.latencies) client.latencies.length = 0;
      if (client.sinceCreatedAt) client.sinceCreatedAt.length = 0;
    }
    const busBefore = await Promise.all(servers.map(busCounters));
    if (profileFiles) await Promise.all(servers.map((server) => server.startProfile()));

    const baseOf = clients.map((c) => c.received);
    const base = total(clients);
    const cpuBefore = servers.map((server) => server.cpuMicros());
    const postgresBefore = processCpuMicros('postgres');
    const backendsBefore = await backendsOf(databaseUrl);
    const redisBefore = processCpuMicros('redis-server');
    const lastMs: number[] = [];
    let stalled = 0;
    for (let k = 1; k <= options.messages; k++) {
      const sentAt = now();
      await send(benchMessage(sentAt, k));
      if (await waitFor(() => total(clients) >= base + k * clients.length, STALL_MS)) lastMs.push(now() - sentAt);
      else stalled++;
    }
    const cpu = servers.map((server, i) => server.cpuMicros() - cpuBefore[i]!);
    const postgresAfter = processCpuMicros('postgres');
    const redisMicros = processCpuSince('redis-server', redisBefore);
    // Only the backends serving the bench's database (others' tests may use the same PostgreSQL), new ones counted whole.
    const backends = new Set([...backendsBefore, ...(await backendsOf(databaseUrl))]);
    const postgresMicros = [...backends].reduce((sum, pid) => sum + (postgresAfter.get(pid) ?? 0) - (postgresAfter.has(pid) ? (postgresBefore.get(pid) ?? 0) : 0), 0);
    if (profileFiles) await Promise.all(servers.map((server, i) => server.stopProfile(profileFiles[i]!)));

    // Late deliveries (healed from the log) and duplicates: give them time to show up before counting.
    await waitFor(() => total(clients) >= base + options.messages * clients.length, 5000);
    await delay(500);
    let lost = 0;
    let duplicated = 0;
    clients.forEach((client, i) => {
      const extra = client.received - baseOf[i]! - options.messages;
      if (extra < 0) lost -= extra;
      else duplicated += extra;
    });
    const busAfter = await Promise.all(servers.map(busCounters));
    const bus = (name: string) => busAfter.reduce((sum, after, i) => sum + (after.get(name) ?? 0) - (busBefore[i]!.get(name) ?? 0), 0);

    const deliveries = options.messages * clients.length;
    return {
      setup,
      round,
      subscribers: clients.length,
      connectErrors,
      deliveries,
      cpuMicrosPerDelivery: cpu.reduce((a, b) => a + b, 0) / deliveries,
      cpuMicrosPerOwnDelivery: cpu.map((micros, i) => micros / (options.messages * bySide[i]!.length)),
      postgresMicrosPerMessage: postgresMicros / options.messages,
      redisMicrosPerMessage: redisMicros / options.messages,
      sending: sideLatency(bySide[0]!),
      other: bySide.length > 1 ? sideLatency(bySide.slice(1).flat()) : undefined,
      lastMs: median(lastMs),
      lost,
      duplicated,
      stalled,
      settleMs,
      busReceived: bus('parley_bus_messages_received_total'),
      gapsHealed: bus('parley_bus_gaps_healed_total'),
      eventsHealed: bus('parley_bus_events_healed_total'),
      sendFailures: bus('parley_bus_send_failures_total'),
    };
  } finally {
    await closeClients(opened.flatMap((o) => o.clients));
    await Promise.all(servers.map((server) => waitFor(async () => (await server.stats()).subscribers === 0, 60_000)));
  }
}

function sideLatency(clients: LoadClient[]): SideLatency {
  const sorted = (pick: (c: LoadClient) => number[] | undefined) => clients.flatMap((c) => pick(c) ?? []).sort((a, b) => a - b);
  const sent = sorted((c) => c.latencies);
  const created = sorted((c) => c.sinceCreatedAt);
  return { samples: sent.length, p50: percentile(sent, 50), p99: percentile(sent, 99), createdP50: percentile(created, 50), createdP99: percentile(created, 99) };
}

/** Process ids of the PostgreSQL backends connected to `databaseUrl`'s database (the asking one left out). */
async function backendsOf(databaseUrl: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

/** The bus's counters from GET /metrics (Prometheus text), by metric name; empty with BUS=off. */
function busCounters(server: BenchServer): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${server.port}/metrics`, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const counters = new Map<string, number>();
          for (const [, name, value] of text.matchAll(/^(parley_bus_\w+_total) (\S+)$/gm)) counters.set(name!, Number(value));
          resolve(counters);
        });
      })
      .on('error', reject);
  });
}

/** Deletes what the Redis deployments left under the run's channel prefix (presence keys). */
async function removeRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch (error) {
    console.error(`could not remove the run's Redis keys under ${prefix}: ${String(error)}`);
  } finally {
    redis.disconnect();
  }
}

/** The section's heading: fixed, so a new run replaces it in BENCHMARKS.md whatever its size. */
export const PROCESSES_HEADING = '## Several processes (issue 13): one room\'s fan-out over processes on one database';

const LABEL: Record<Setup, string> = { single: '1 process, BUS=off', postgres: 'BUS=postgres', redis: 'BUS=redis' };

function renderProcesses(
  rounds: ProcessesRound[],
  profiles: { setup: Setup; process: number; deliveries: number; summary: ProfileSummary }[],
  options: ProcessesOptions,
): string {
  const n = options.processes;
  const of = (setup: Setup) => rounds.filter((r) => r.setup === setup);
  const m = (setup: Setup, pick: (r: ProcessesRound) => number) => median(of(setup).map(pick));
  const label = (setup: Setup) => (setup === 'single' ? LABEL.single : `${n} processes, ${LABEL[setup]}`);
  const fixed = (value: number, digits = 1) => (Number.isNaN(value) ? 'n/a' : value.toFixed(digits));
  const single = of('single').length > 0;
  const lines: string[] = [];
  lines.push(PROCESSES_HEADING, '');
  lines.push(
    `Command: \`${options.command}\` (DATABASE_URL pointing at the machine's PostgreSQL, Redis 7 at ${options.redisUrl}; the bench creates and drops its own database and removes its Redis keys).`,
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, loopback only. Servers (all processes of a deployment) pinned to core 0, the load generator to core 1: ${options.pinned ? 'yes' : 'no'}; PostgreSQL and Redis unpinned. Other engineers' tests shared the machine.`,
    `One room, ${options.subscribers.toLocaleString('en')} subscribers over graphql-ws (\`messageAdded\`), opened 256 handshakes at a time and spread evenly over the processes (round-robin by process: ${n} × ${Math.floor(options.subscribers / n).toLocaleString('en')}); the sender sends \`sendMessage\` over HTTP to process 1, ${options.messages} messages of ~200 bytes one after another (each waits until every subscriber has it, as in the fan-out above), after ${WARM_UP_MESSAGES} unmeasured warm-up messages. Every deployment is started for its round on the same fresh database and stopped after it; the setups are rotated from round to round (${options.rounds} rounds) and each figure is the median over the rounds.`,
    `CPU: user+system time from /proc/PID/stat of every server process of the deployment, from the first measured send until the last subscriber had the last message, divided by deliveries (messages × subscribers); beside it per message, PostgreSQL's (the backends connected to the bench's database) and Redis's (the whole redis-server, which others may use too). The window opens once the servers have gone quiet after the subscribers connected (under 5% of a core for 0.5 s): with the bus on, each socket's presence is written to the shared state after its subscription is live, and that work would otherwise land in the window. Latency: one subscriber in ${SAMPLE_EVERY} decodes and times every message, from the send time the message carries (taken before the HTTP request), and from its \`createdAt\` (set by PostgreSQL at the sending transaction's start; millisecond precision); "sending" are the subscribers on process 1, "other" those on the rest. Lost/duplicated: every subscriber's count of messages against the number sent, 0.5 s after the last one arrived. Bus figures from each process's GET /metrics.`,
    '',
  );
  lines.push(
    '| setup | CPU µs/delivery | × 1 process | process 1 µs/own delivery | other µs/own delivery | PostgreSQL µs/message | Redis µs/message | p50 ms sending | p99 ms sending | p50 ms other | p99 ms other | p99 from createdAt sending / other | to last ms | lost | duplicated | hints received | gaps healed |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const singleCpu = single ? m('single', (r) => r.cpuMicrosPerDelivery) : Number.NaN;
  for (const setup of options.setups) {
    const rows = of(setup);
    if (rows.length === 0) continue;
    const cpu = m(setup, (r) => r.cpuMicrosPerDelivery);
    const otherCpu = setup === 'single' ? Number.NaN : m(setup, (r) => median(r.cpuMicrosPerOwnDelivery.slice(1)));
    const sum = (pick: (r: ProcessesRound) => number) => rows.reduce((total, r) => total + pick(r), 0);
    lines.push(
      `| ${label(setup)} | ${fixed(cpu)} | ${fixed(cpu / singleCpu, 2)} | ${fixed(m(setup, (r) => r.cpuMicrosPerOwnDelivery[0]!))} | ${setup === 'single' ? '' : fixed(otherCpu)} | ${fixed(m(setup, (r) => r.postgresMicrosPerMessage), 0)} | ${fixed(m(setup, (r) => r.redisMicrosPerMessage), 0)} | ${fixed(m(setup, (r) => r.sending.p50))} | ${fixed(m(setup, (r) => r.sending.p99))} | ${setup === 'single' ? '' : fixed(m(setup, (r) => r.other!.p50))} | ${setup === 'single' ? '' : fixed(m(setup, (r) => r.other!.p99))} | ${fixed(m(setup, (r) => r.sending.createdP99))}${setup === 'single' ? '' : ` / ${fixed(m(setup, (r) => r.other!.createdP99))}`} | ${fixed(m(setup, (r) => r.lastMs))} | ${sum((r) => r.lost)} | ${sum((r) => r.duplicated)} | ${setup === 'single' ? '' : sum((r) => r.busReceived)} | ${setup === 'single' ? '' : sum((r) => r.gapsHealed)} |`,
    );
  }
  lines.push('', `Lost, duplicated, hints and gaps are totals over all ${options.rounds} rounds; the rest are medians. Each round, per setup:`, '');
  lines.push('| round | setup | CPU µs/delivery | p99 ms sending | p99 ms other | to last ms | connect errors | quiet after connecting, s | stalled messages | bus send failures |', '|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rounds) {
    lines.push(
      `| ${r.round} | ${label(r.setup)} | ${fixed(r.cpuMicrosPerDelivery)} | ${fixed(r.sending.p99)} | ${r.other ? fixed(r.other.p99) : ''} | ${fixed(r.lastMs)} | ${r.connectErrors} | ${(r.settleMs / 1000).toFixed(1)} | ${r.stalled} | ${r.setup === 'single' ? '' : r.sendFailures} |`,
    );
  }
  lines.push('');

  if (single) {
    const busSetups = options.setups.filter((s) => s !== 'single' && of(s).length > 0);
    lines.push('| goal | setup | met | measured |', '|---|---|---|---|');
    // Each round's figure against single-process's in the same round, the median over the rounds: drift on the shared
    // machine between rounds cancels out.
    const paired = (setup: Setup, pick: (r: ProcessesRound) => number, compare: (a: number, b: number) => number) =>
      median(of(setup).flatMap((r) => of('single').filter((s) => s.round === r.round).map((s) => compare(pick(r), pick(s)))));
    for (const setup of busSetups) {
      const ratio = paired(setup, (r) => r.cpuMicrosPerDelivery, (a, b) => a / b);
      lines.push(
        `| CPU per delivery ≤ 1.3× single-process | ${label(setup)} | ${ratio <= 1.3 ? 'yes' : '**no**'} | ${ratio.toFixed(2)}× (median of the rounds' ratios; medians ${fixed(m(setup, (r) => r.cpuMicrosPerDelivery))} vs ${fixed(singleCpu)} µs) |`,
      );
      const base = m('single', (r) => r.sending.p99);
      for (const side of ['sending', 'other'] as const) {
        const pick = (r: ProcessesRound) => (side === 'sending' || r.setup === 'single' ? r.sending.p99 : r.other!.p99);
        const difference = paired(setup, pick, (a, b) => a - b);
        const p99 = m(setup, pick);
        lines.push(
          `| p99 ≤ 10 ms above single-process, subscribers on the ${side === 'sending' ? 'sending process' : 'other process'} | ${label(setup)} | ${difference <= 10 ? 'yes' : '**no**'} | ${difference >= 0 ? '+' : ''}${difference.toFixed(1)} ms (median of the rounds' differences; medians ${p99.toFixed(1)} vs ${base.toFixed(1)} ms) |`,
        );
      }
      const rows = of(setup);
      const lost = rows.reduce((s, r) => s + r.lost, 0);
      const duplicated = rows.reduce((s, r) => s + r.duplicated, 0);
      lines.push(`| no delivery lost or duplicated | ${label(setup)} | ${lost === 0 && duplicated === 0 ? 'yes' : '**no**'} | ${lost} lost, ${duplicated} duplicated of ${rows.reduce((s, r) => s + r.deliveries, 0)} |`);
    }
    lines.push('');
  }

  if (profiles.length > 0) {
    lines.push(
      "Where the time goes: one more round per setup, not measured, with every server process profiled over the same window (the inspector's sampling profiler, every 200 µs). A sample counts wall time on the main thread, so a process preempted in a call (two servers share core 0, and others' tests the machine) inflates that call: the table gives each place's share of a process's samples (idle left out), and the sampled time per delivery that process made.",
      '',
    );
    const columns = profiles.map((p) => (p.setup === 'single' ? 'single' : `${p.setup} ${p.process === 1 ? 'sending' : `other (${p.process})`}`));
    const busy = (p: (typeof profiles)[number]) => p.summary.byPlace.filter(([name]) => name !== '(idle)');
    const busyMs = (p: (typeof profiles)[number]) => busy(p).reduce((sum, [, ms]) => sum + ms, 0);
    const places = new Set<string>();
    for (const p of profiles) for (const [place] of busy(p).slice(0, 8)) places.add(place);
    lines.push(`| place | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---|').join('')}`);
    const share = (p: (typeof profiles)[number], ms: number) => `${((100 * ms) / busyMs(p)).toFixed(1)}%`;
    for (const place of places) lines.push(`| ${place} | ${profiles.map((p) => share(p, busy(p).find(([name]) => name === place)?.[1] ?? 0)).join(' | ')} |`);
    lines.push(`| the rest | ${profiles.map((p) => share(p, busy(p).filter(([name]) => !places.has(name)).reduce((sum, [, ms]) => sum + ms, 0))).join(' | ')} |`);
    lines.push(`| sampled µs per own delivery | ${profiles.map((p) => ((busyMs(p) * 1000) / p.deliveries).toFixed(1)).join(' | ')} |`, '');
  }
  return lines.join('\n');
}
