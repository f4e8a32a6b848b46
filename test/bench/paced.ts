// Paced fan-out (issue 14): one room's subscribers receive messages sent at a steady rate, each sent on schedule
// whether or not the earlier ones have reached everyone yet, as chat traffic arrives. Raw ws (the floor), Socket.IO 4
// and Parley in the same run, rounds rotated; CPU per delivery, latency, time to the last subscriber, lost/duplicated.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { closeClients, DeliveryTracker, now, openClients, protocolFor } from './clients.js';
import { summarizeProfile, type ProfileSummary } from './cpu-profile.js';
import type { ParleyFixtures } from './parley-fixtures.js';
import { sender, untilAllLive } from './scenarios.js';
import { ownCpuMicros, untilQuiet, type BenchServer, type ServerKind } from './server-process.js';
import { benchMessage, percentile, waitFor } from './stats.js';

export interface PacedScenario {
  subscribers: number;
  /** Messages per second, and for how long. */
  rate: number;
  seconds: number;
}

/**
 * The first, with 10 subscribers, measures what each message costs a server on its own (taking it in, storing and
 * rendering it for Parley, reading the POST for the others): the others' figures less that cost are what each
 * delivery costs.
 */
export const PACED_SCENARIOS: PacedScenario[] = [
  { subscribers: 10, rate: 20, seconds: 10 },
  { subscribers: 1000, rate: 20, seconds: 10 },
  { subscribers: 5000, rate: 5, seconds: 20 },
  { subscribers: 10_000, rate: 2, seconds: 20 },
];
/** `--quick`: the same shapes, small and short. */
export const QUICK_PACED_SCENARIOS: PacedScenario[] = [
  { subscribers: 10, rate: 20, seconds: 3 },
  { subscribers: 200, rate: 20, seconds: 3 },
  { subscribers: 1000, rate: 5, seconds: 4 },
];

/**
 * Which subscribers are full clients (decode and time every message, as a chat client does): `all` of them, or a
 * `sample` of ~200 with the rest sinks that count frames by their first bytes (the one-at-a-time scenario's mix).
 */
export type ClientMix = 'all' | 'sample';

export function sampleEveryFor(mix: ClientMix, subscribers: number): number {
  return mix === 'all' ? 1 : Math.max(1, Math.floor(subscribers / 200));
}

/**
 * Unmeasured sends each server takes before its first round (no subscribers yet), so that every server's path for
 * taking in a message is compiled by V8 before anything is measured, as in a server that has been up a while.
 * Without them the first scenario pays the compilation: about 0.7 ms per message for Parley, whose path is longer.
 */
const WARM_UP_SENDS = 1000;

/** How long the last message may take to reach everyone after the last send before the round gives up on it. */
const DRAIN_LIMIT_MS = 30_000;

export interface PacedResult {
  server: ServerKind;
  scenario: PacedScenario;
  round: number;
  /** Subscribers connected, and connections that failed. */
  subscribers: number;
  connectErrors: number;
  sent: number;
  sendFailures: number;
  /** Latest a send left after its scheduled time: the load generator kept the pace when this is small. */
  maxSendLagMs: number;
  /** Distinct (subscriber, message) pairs received; missing and repeated ones. */
  deliveries: number;
  lost: number;
  duplicated: number;
  /**
   * Server CPU (user + system, /proc) from the first send until a second after the last subscriber had the last
   * message, per delivery: the second after counts work the server defers (a GC, the search indexer).
   */
  cpuMicrosPerDelivery: number;
  /** Of that, the second after. */
  tailMicrosPerDelivery: number;
  /** Shares of a core over the window: the server's, and the load generator's (all its threads). */
  serverBusy: number;
  loadGeneratorBusy: number;
  /** Send → receive at the full clients, in ms. */
  p50Ms: number;
  p99Ms: number;
  latencySamples: number;
  /** Per message, send → the last subscriber had it, in ms: p50 and p99 over the messages. */
  lastP50Ms: number;
  lastP99Ms: number;
  /** Parley: GraphQL executions per event in the window. */
  executionsPerEvent?: number;
}

export interface PacedOptions {
  mix: ClientMix;
  /** When set, the server is profiled over the measured window and the profile written here. */
  profileFile?: string | undefined;
}

/** One server, one paced scenario, one round. */
export async function runPaced(server: BenchServer, fixtures: ParleyFixtures, scenario: PacedScenario, round: number, options: PacedOptions): Promise<PacedResult> {
  const send = sender(server, fixtures);
  const messages = scenario.rate * scenario.seconds;
  const tracker = new DeliveryTracker(messages);
  const opened = await openClients({
    kind: server.kind,
    port: server.port,
    count: scenario.subscribers,
    sampleEvery: sampleEveryFor(options.mix, scenario.subscribers),
    concurrency: 256,
    tracker,
    protocol: (index) =>
      protocolFor(server.kind, { token: fixtures.subscriberTokens[index % fixtures.subscriberTokens.length]!, roomId: fixtures.fanOutRoom }),
  });
  const all = opened.clients;
  // Indexes into `all` are the tracker's client numbers; a socket that failed to open is left out.
  const live = all.map((client, index) => ({ client, index })).filter(({ client }) => client.socket.readyState === client.socket.OPEN);
  const clients = live.map(({ client }) => client);
  try {
    await waitFor(async () => (await server.stats()).subscribers >= clients.length, 120_000);
    await untilAllLive(clients, () => send(benchMessage(now(), -1)));
    // A second of unmeasured traffic at the scenario's rate, then wait for the server to go quiet (what connecting
    // left behind, and the warm-up's own fan-out, stay out of the window).
    for (let k = 0; k < Math.min(scenario.rate, 20); k++) {
      void send(benchMessage(now(), -1)).catch(() => undefined);
      await delay(1000 / scenario.rate);
    }
    await untilQuiet([server], 15_000);
    for (const client of clients) {
      if (client.latencies) client.latencies.length = 0;
      if (client.sinceCreatedAt) client.sinceCreatedAt.length = 0;
    }

    if (options.profileFile) await server.startProfile();
    const statsBefore = await server.stats();
    const cpuBefore = server.cpuMicros();
    const ownBefore = ownCpuMicros();
    const sentAt = new Float64Array(messages + 1);
    const inFlight: Promise<void>[] = [];
    let sendFailures = 0;
    let maxSendLagMs = 0;
    const started = now();
    const intervalMs = 1000 / scenario.rate;
    for (let k = 1; k <= messages; k++) {
      const due = started + (k - 1) * intervalMs;
      const wait = due - now();
      if (wait > 0) await delay(wait);
      sentAt[k] = now();
      maxSendLagMs = Math.max(maxSendLagMs, sentAt[k]! - due);
      inFlight.push(send(benchMessage(sentAt[k]!, k)).catch(() => void sendFailures++));
    }
    await Promise.all(inFlight);
    const everyone = clients.length;
    const complete = () => {
      for (let k = 1; k <= messages; k++) if (tracker.arrivals[k]! < everyone) return false;
      return true;
    };
    await waitFor(complete, DRAIN_LIMIT_MS);
    const windowEnd = now();
    const cpuMicros = server.cpuMicros() - cpuBefore;
    const ownMicros = ownCpuMicros() - ownBefore;
    const statsAfter = await server.stats();
    if (options.profileFile) await server.stopProfile(options.profileFile);
    const tailBefore = server.cpuMicros();
    await delay(1000); // also lets late or repeated frames land before counting
    const tailMicros = server.cpuMicros() - tailBefore;

    const deliveries = tracker.arrivals.reduce((sum, n) => sum + n, 0);
    const lost = live.reduce((sum, { index }) => sum + tracker.missing(index, messages), 0);
    const lastMs: number[] = [];
    for (let k = 1; k <= messages; k++) if (tracker.arrivals[k] === everyone) lastMs.push(tracker.lastAt[k]! - sentAt[k]!);
    lastMs.sort((a, b) => a - b);
    const latencies = clients.flatMap((c) => c.latencies ?? []).sort((a, b) => a - b);
    const windowMicros = (windowEnd - started) * 1000;
    const events = (statsAfter.events ?? 0) - (statsBefore.events ?? 0);
    return {
      server: server.kind,
      scenario,
      round,
      subscribers: clients.length,
      connectErrors: opened.errors,
      sent: messages,
      sendFailures,
      maxSendLagMs,
      deliveries,
      lost,
      duplicated: tracker.duplicated,
      cpuMicrosPerDelivery: (cpuMicros + tailMicros) / Math.max(1, deliveries),
      tailMicrosPerDelivery: tailMicros / Math.max(1, deliveries),
      serverBusy: cpuMicros / windowMicros,
      loadGeneratorBusy: ownMicros / windowMicros,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      latencySamples: latencies.length,
      lastP50Ms: percentile(lastMs, 50),
      lastP99Ms: percentile(lastMs, 99),
      ...(server.kind === 'parley' && events > 0 ? { executionsPerEvent: ((statsAfter.executions ?? 0) - (statsBefore.executions ?? 0)) / events } : {}),
    };
  } finally {
    await closeClients(all);
    await waitFor(async () => (await server.stats()).subscribers === 0, 60_000);
  }
}

/** WARM_UP_SENDS sends, ten at a time, then until the server is quiet. */
async function warmUp(server: BenchServer, fixtures: ParleyFixtures): Promise<void> {
  const send = sender(server, fixtures);
  for (let sent = 0; sent < WARM_UP_SENDS; sent += 10) {
    await Promise.all(Array.from({ length: 10 }, () => send(benchMessage(now(), -1))));
  }
  await untilQuiet([server], 15_000);
}

/** The round's kinds in rotated order: A B C, then B C A, then C A B, … */
export function rotated<T>(items: T[], round: number): T[] {
  return items.map((_, i) => items[(i + round - 1) % items.length]!);
}

/** A server's CPU profile over a paced window: its summary, and the deliveries it made meanwhile. */
export interface PacedProfile {
  server: ServerKind;
  deliveries: number;
  summary: ProfileSummary;
}

/**
 * Every scenario, `rounds` rounds each, the servers rotated from round to round; then, with `profile`, one more
 * round of its scenario per server, not measured, with each server profiled (files kept in `profile.dir`).
 */
export async function runPacedScenarios(
  servers: Map<ServerKind, BenchServer>,
  fixtures: ParleyFixtures,
  options: { scenarios: PacedScenario[]; kinds: ServerKind[]; rounds: number; mix: ClientMix; profile?: { scenario: PacedScenario; dir: string } | undefined },
): Promise<{ results: PacedResult[]; profiles: PacedProfile[] }> {
  const results: PacedResult[] = [];
  for (const kind of options.kinds) await warmUp(servers.get(kind)!, fixtures);
  for (const scenario of options.scenarios) {
    for (let round = 1; round <= options.rounds; round++) {
      for (const kind of rotated(options.kinds, round)) {
        const result = await runPaced(servers.get(kind)!, fixtures, scenario, round, { mix: options.mix });
        results.push(result);
        console.error(
          `paced ${scenario.subscribers}@${scenario.rate}/s round ${round} ${kind}: ${result.cpuMicrosPerDelivery.toFixed(1)} µs/delivery (tail ${result.tailMicrosPerDelivery.toFixed(2)}), p50 ${result.p50Ms.toFixed(1)} p99 ${result.p99Ms.toFixed(1)} ms, to last p50 ${result.lastP50Ms.toFixed(1)} p99 ${result.lastP99Ms.toFixed(1)} ms, server ${(100 * result.serverBusy).toFixed(0)}% load generator ${(100 * result.loadGeneratorBusy).toFixed(0)}% busy, lag ${result.maxSendLagMs.toFixed(1)} ms, lost ${result.lost} duplicated ${result.duplicated}`,
        );
      }
    }
  }
  const profiles: PacedProfile[] = [];
  if (options.profile) {
    mkdirSync(options.profile.dir, { recursive: true });
    for (const kind of options.kinds) {
      const file = path.join(options.profile.dir, `paced-${options.profile.scenario.subscribers}-${kind}.cpuprofile`);
      const result = await runPaced(servers.get(kind)!, fixtures, options.profile.scenario, 0, { mix: options.mix, profileFile: file });
      profiles.push({ server: kind, deliveries: result.deliveries, summary: summarizeProfile(file, 40) });
      console.error(`profile: ${file}`);
    }
  }
  return { results, profiles };
}
