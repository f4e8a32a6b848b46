import http from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { closeClients, now, openClients, protocolFor, type LoadClient } from './clients.js';
import type { ParleyFixtures } from './parley-fixtures.js';
import { WsSender } from './ws-sender.js';
import { kernelSlabMemory, ownCpuMicros, postgresCpuMicros, postgresCpuSince, untilQuiet, type BenchServer } from './server-process.js';
import { benchMessage, percentile, waitFor } from './stats.js';

export interface FanOutResult {
  server: string;
  subscribers: number;
  p50Ms: number;
  p99Ms: number;
  /** Median time from send until the last subscriber had the message. */
  lastMs: number;
  /**
   * Server CPU from the first send until a second after the last subscriber had the last message, per delivery: the
   * second after counts work the server defers (Parley's search indexer and GC: 0.5-2.5 µs per delivery at 1,000).
   */
  cpuMicrosPerDelivery: number;
  /** Of that, the second after. */
  tailMicrosPerDelivery: number;
  /** V8 heap + external per connected subscriber after GC, and kernel slab growth per connection (both ends). */
  heapBytesPerSubscriber: number;
  kernelBytesPerSocket: number;
  /** Fully subscribed connections per second while opening them all, and how many failed. */
  rampPerSecond: number;
  rampErrors: number;
  /** During the ramp: server CPU per connection, and the share of its core the load generator was busy. */
  rampServerMicrosPerConnection: number;
  rampLoadGeneratorBusy: number;
  /** Parley: GraphQL executions per event during the measured sends. */
  executionsPerEvent?: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs a body over a kept-alive connection (node:http: fetch would add ~2 ms per request to every latency here). */
function post(url: string, body: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(text));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** Sends one benchmark message the way each server takes it: POST /broadcast, or Parley's sendMessage mutation. */
export function sender(server: BenchServer, fixtures: ParleyFixtures) {
  if (server.kind !== 'parley') {
    return async (body: string) => {
      await post(`http://127.0.0.1:${server.port}/broadcast`, body);
    };
  }
  return async (body: string, roomId = fixtures.fanOutRoom, token = fixtures.sender.token) => {
    const text = await post(
      `http://127.0.0.1:${server.port}/graphql`,
      JSON.stringify({ query: 'mutation($r: ID!, $b: String!) { sendMessage(roomId: $r, body: $b) { seq } }', variables: { r: roomId, b: body } }),
      { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    );
    const result = JSON.parse(text) as { errors?: unknown };
    if (result.errors) throw new Error(`sendMessage failed: ${JSON.stringify(result.errors)}`);
  };
}

export const total = (clients: LoadClient[]) => clients.reduce((sum, c) => sum + c.received, 0);

/** Sends probes until every client has received one: then every subscription is live. */
export async function untilAllLive(clients: LoadClient[], send: () => Promise<void>): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    await send();
    if (await waitFor(() => clients.every((c) => c.received > 0), 2000)) return;
  }
  throw new Error('subscribers did not go live');
}

/**
 * One server, `count` subscribers of one room, `messages` sends one after another. Every `sampleEvery`-th subscriber
 * is a full client (default: ~200 of them), the rest sinks.
 */
export async function runFanOut(
  server: BenchServer,
  fixtures: ParleyFixtures,
  count: number,
  messages: number,
  sampleEvery = Math.max(1, Math.floor(count / 200)),
): Promise<FanOutResult> {
  const send = sender(server, fixtures);
  const heapBefore = await server.memory();
  const kernelBefore = kernelSlabMemory();
  const rampStart = now();
  const rampServerCpu = server.cpuMicros();
  const rampOwnCpu = ownCpuMicros();
  const { clients, errors } = await openClients({
    kind: server.kind,
    port: server.port,
    count,
    sampleEvery,
    concurrency: 256,
    protocol: (index) =>
      protocolFor(server.kind, { token: fixtures.subscriberTokens[index % fixtures.subscriberTokens.length]!, roomId: fixtures.fanOutRoom }),
  });
  await waitFor(async () => (await server.stats()).subscribers >= count - errors, 120_000);
  const rampSeconds = (now() - rampStart) / 1000;
  const rampServerMicros = server.cpuMicros() - rampServerCpu;
  const rampOwnMicros = ownCpuMicros() - rampOwnCpu;

  await untilAllLive(clients, () => send(benchMessage(now(), -1)));
  // Connecting leaves work behind (a GC of the handshakes' garbage, ~100 ms of CPU at 1,000 sockets): in a window of
  // 20 messages that added ~6 µs to every server's CPU per delivery alike, pulling the ratios towards 1.
  await untilQuiet([server], 15_000);
  for (const client of clients) if (client.latencies) client.latencies.length = 0;
  const heapAfter = await server.memory();
  const kernelAfter = kernelSlabMemory();

  const statsBefore = await server.stats();
  const cpuBefore = server.cpuMicros();
  const base = total(clients);
  const lastMs: number[] = [];
  for (let k = 1; k <= messages; k++) {
    const sentAt = now();
    await send(benchMessage(sentAt, k));
    if (!(await waitFor(() => total(clients) >= base + k * clients.length, 60_000))) throw new Error(`message ${k} did not reach everyone`);
    lastMs.push(now() - sentAt);
  }
  const cpuMicros = server.cpuMicros() - cpuBefore;
  const statsAfter = await server.stats();
  const tailBefore = server.cpuMicros();
  await delay(1000);
  const tailMicros = server.cpuMicros() - tailBefore;
  const latencies = clients.flatMap((c) => c.latencies ?? []).sort((a, b) => a - b);
  await closeClients(clients);
  await waitFor(async () => (await server.stats()).subscribers === 0, 60_000);

  const events = (statsAfter.events ?? 0) - (statsBefore.events ?? 0);
  return {
    server: server.kind,
    subscribers: count,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    lastMs: percentile([...lastMs].sort((a, b) => a - b), 50),
    cpuMicrosPerDelivery: (cpuMicros + tailMicros) / (messages * clients.length),
    tailMicrosPerDelivery: tailMicros / (messages * clients.length),
    heapBytesPerSubscriber: (heapAfter.heapUsed + heapAfter.external - heapBefore.heapUsed - heapBefore.external) / count,
    kernelBytesPerSocket: (kernelAfter - kernelBefore) / count,
    rampPerSecond: count / rampSeconds,
    rampErrors: errors,
    rampServerMicrosPerConnection: rampServerMicros / count,
    rampLoadGeneratorBusy: rampOwnMicros / (rampSeconds * 1e6),
    ...(server.kind === 'parley' && events > 0 ? { executionsPerEvent: ((statsAfter.executions ?? 0) - (statsBefore.executions ?? 0)) / events } : {}),
  };
}

export interface SustainedStep {
  rate: number;
  sent: number;
  failed: number;
  delivered: number;
  expected: number;
  p99Ms: number;
  holds: boolean;
  /** CPU per send of the server, of PostgreSQL (all its processes) and of the load generator. */
  serverMicrosPerSend: number;
  postgresMicrosPerSend: number;
  loadGeneratorMicrosPerSend: number;
}

/**
 * Parley only: sends at a fixed rate into many rooms (each send a transaction, synchronous_commit on) for
 * `seconds` per step, raising the rate until p99 delivery latency passes 100 ms or a send fails. Senders are
 * clients on their own sockets, one per room, sending sendMessage over graphql-ws as chat apps do.
 */
export async function runSustained(server: BenchServer, fixtures: ParleyFixtures, rates: number[], seconds: number): Promise<{ steps: SustainedStep[]; sentInAll: number }> {
  const send = sender(server, fixtures);
  const members = fixtures.rooms.flatMap((room) => room.members.map((member) => ({ room: room.id, token: member.token })));
  const { clients } = await openClients({
    kind: 'parley',
    port: server.port,
    count: members.length,
    sampleEvery: 10, // one timed member per room (the load generator shares this 2-core machine), the rest sinks
    concurrency: 128,
    protocol: (index) => protocolFor('parley', { token: members[index]!.token, roomId: members[index]!.room }),
  });
  await waitFor(async () => (await server.stats()).subscribers >= members.length, 60_000);
  const senders = await Promise.all(
    fixtures.rooms.map((room, r) => WsSender.open(server.port, room.members[0]!.token, `127.0.0.${2 + (r % 49)}`)),
  );
  let sentInAll = 0;
  await untilAllLive(clients, async () => {
    await Promise.all(fixtures.rooms.map((room) => send(benchMessage(now(), -1), room.id, room.members[0]!.token)));
    sentInAll += fixtures.rooms.length;
  });
  await delay(500);
  const steps: SustainedStep[] = [];
  for (const rate of rates) {
    for (const client of clients) if (client.latencies) client.latencies.length = 0;
    const base = total(clients);
    let sent = 0;
    let failed = 0;
    const inFlight: Promise<void>[] = [];
    const cpuBefore = { server: server.cpuMicros(), postgres: postgresCpuMicros(), own: ownCpuMicros() };
    const started = now();
    const tickMs = 10;
    for (let tick = 0; tick < (seconds * 1000) / tickMs; tick++) {
      const due = Math.floor(((tick + 1) * tickMs * rate) / 1000) - sent;
      for (let i = 0; i < due; i++) {
        const r = sent % fixtures.rooms.length;
        sent++;
        inFlight.push(senders[r]!.send(fixtures.rooms[r]!.id, benchMessage(now(), sent)).catch(() => void failed++));
      }
      const nextTick = started + (tick + 1) * tickMs;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextTick - now())));
    }
    await Promise.all(inFlight);
    const perSend = (micros: number) => micros / Math.max(1, sent);
    const cpu = {
      serverMicrosPerSend: perSend(server.cpuMicros() - cpuBefore.server),
      postgresMicrosPerSend: perSend(postgresCpuSince(cpuBefore.postgres)),
      loadGeneratorMicrosPerSend: perSend(ownCpuMicros() - cpuBefore.own),
    };
    sentInAll += sent - failed;
    const expected = (sent - failed) * 10;
    await waitFor(() => total(clients) - base >= expected, 10_000);
    const latencies = clients.flatMap((c) => c.latencies ?? []).sort((a, b) => a - b);
    const p99Ms = percentile(latencies, 99);
    const delivered = total(clients) - base;
    const holds = failed === 0 && delivered === expected && p99Ms < 100;
    steps.push({ rate, sent, failed, delivered, expected, p99Ms, holds, ...cpu });
    if (!holds) break;
  }
  await closeClients(clients);
  for (const sender of senders) sender.close();
  return { steps, sentInAll };
}
