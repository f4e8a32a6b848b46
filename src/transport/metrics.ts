import { createHash, timingSafeEqual } from 'node:crypto';
import express from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BusCounters } from '../realtime/bus/bus-counters.js';
import type { FanOutCounters } from '../realtime/fan-out-counters.js';

/** What the metrics read at scrape time; each is asked only when /metrics is requested. */
export interface MetricSources {
  /** Open WebSocket connections. */
  sockets(): number;
  /** Live subscriptions by stream kind (`room`, `inbox`). */
  subscriptions(): Record<string, number>;
  counters: FanOutCounters;
  /** The bus between processes (undefined: BUS=off). */
  bus?: (() => { counters: BusCounters; listening: boolean }) | undefined;
  /** The database pool: connections open, idle, and requests waiting for one. */
  pool(): { total: number; idle: number; waiting: number };
}

/** Parley's Prometheus metrics, in a registry of their own (several apps may share a process in tests). */
export interface Metrics {
  registry: Registry;
  /** Time of one GraphQL-over-HTTP request, from arrival to the response's end. */
  httpRequestSeconds: Histogram<'method' | 'status'>;
  /** Time of `sendMessage` from the service call to its acknowledgement (the stored message). */
  sendSeconds: Histogram<'outcome'>;
  /** From an event's timestamp (its transaction's) to its frames handed to every live room subscriber's socket. */
  commitToSocketSeconds: Histogram;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Builds the registry: process metrics, gauges read from `sources` at scrape time, and the latency histograms. */
export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({ name: 'parley_websocket_connections', help: 'Open WebSocket connections.', registers: [registry], collect() { this.set(sources.sockets()); } });
  new Gauge({
    name: 'parley_subscriptions',
    help: 'Live stream subscriptions by stream kind.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      for (const [kind, count] of Object.entries(sources.subscriptions())) this.set({ kind }, count);
    },
  });
  // The fan-out keeps plain monotonic numbers; a counter that is set to them at scrape time reports them as they are.
  const fromCounters = (name: string, help: string, read: (c: FanOutCounters) => number) =>
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read(sources.counters)); } });
  fromCounters('parley_fanout_events_total', 'Events taken from the bus by the room fan-out.', (c) => c.events);
  fromCounters('parley_fanout_deliveries_total', 'Frames written to room subscribers (grouped and one at a time).', (c) => c.groupedDeliveries + c.singleDeliveries);
  fromCounters('parley_fanout_group_renders_total', 'GraphQL executions for grouped live delivery (one per group per event).', (c) => c.groupRenders);
  fromCounters('parley_shared_event_renders_total', 'Executions of @sharedEvents subscriptions (presence) shared by their subscribers.', (c) => c.sharedEventRenders);
  fromCounters('parley_slow_consumers_closed_total', 'Subscribers closed (1013) because their socket buffer passed WS_MAX_BUFFERED_BYTES.', (c) => c.slowConsumersDropped);
  new Gauge({
    name: 'parley_db_pool_connections',
    help: 'Database pool connections by state (in_use, idle) and requests waiting for one (waiting).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const pool = sources.pool();
      this.set({ state: 'in_use' }, pool.total - pool.idle);
      this.set({ state: 'idle' }, pool.idle);
      this.set({ state: 'waiting' }, pool.waiting);
    },
  });
  const httpRequestSeconds = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'GraphQL-over-HTTP requests, from arrival to the end of the response.',
    labelNames: ['method', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const sendSeconds = new Histogram({
    name: 'parley_send_duration_seconds',
    help: 'sendMessage from the service call to its acknowledgement (stored and committed), by outcome.',
    labelNames: ['outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const commitToSocketSeconds = new Histogram({
    name: 'parley_commit_to_socket_seconds',
    help: "Room events, from the event's transaction timestamp to its frames handed to every live subscriber's socket in this process (through the bus for events of other processes).",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  if (sources.bus) busMetrics(registry, sources.bus);
  return { registry, httpRequestSeconds, sendSeconds, commitToSocketSeconds };
}

function busMetrics(registry: Registry, bus: () => { counters: BusCounters; listening: boolean }): void {
  const fromBus = (name: string, help: string, read: (c: BusCounters) => number) =>
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read(bus().counters)); } });
  fromBus('parley_bus_messages_sent_total', 'Hints and ephemeral events this process sent to the others.', (c) => c.sent);
  fromBus('parley_bus_messages_received_total', 'Hints and ephemeral events received from other processes.', (c) => c.received);
  fromBus('parley_bus_send_failures_total', 'Bus messages that could not be sent (receivers heal persisted ones from the logs).', (c) => c.sendFailures);
  fromBus('parley_bus_gaps_healed_total', 'Log reads that found events the bus had not brought (lost hints healed).', (c) => c.gapsHealed);
  fromBus('parley_bus_events_healed_total', 'Events read from the logs by gap healing.', (c) => c.eventsHealed);
  fromBus('parley_bus_checks_total', 'Comparisons of every followed stream with its latest seq (periodic and after a reconnect).', (c) => c.checks);
  fromBus('parley_bus_resyncs_total', 'Streams found more than REPLAY_LIMIT behind, whose subscribers were told to resync.', (c) => c.resyncs);
  new Gauge({ name: 'parley_bus_listening', help: '1 while the bus listening connection is up.', registers: [registry], collect() { this.set(bus().listening ? 1 : 0); } });
}

/** Observes commit-to-socket latency of persisted room events (the fan-out's `onFannedOut`). */
export function observeCommitToSocket(metrics: Metrics): (event: { at?: Date; seq?: number | undefined }) => void {
  return (event) => {
    if (event.seq === undefined || !(event.at instanceof Date)) return;
    metrics.commitToSocketSeconds.observe(Math.max(0, Date.now() - event.at.getTime()) / 1000);
  };
}

/** Times each send into the send latency histogram, by outcome (MessagesService's `observeSend`). */
export function observeSends(metrics: Metrics): () => (outcome: 'ok' | 'error') => void {
  return () => {
    const end = metrics.sendSeconds.startTimer();
    return (outcome) => void end({ outcome });
  };
}

/** Times every request through it into `metrics.httpRequestSeconds` (status as a class: 2xx, 4xx, 5xx). */
export function timeHttpRequests(metrics: Metrics): express.RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpRequestSeconds.startTimer({ method: req.method });
    res.once('finish', () => end({ status: `${Math.floor(res.statusCode / 100)}xx` }));
    next();
  };
}

/** Produces the text GET /metrics answers with. */
export type MetricsText = () => Promise<string>;

/**
 * Given an app's own registry, what GET /metrics answers with instead of it alone: in cluster mode, the sum over
 * every worker (src/cluster/worker.ts).
 */
export type MetricsAggregation = (local: Registry) => MetricsText;

/**
 * `GET /metrics` in the Prometheus text format: `text()` when given (cluster mode: every worker's sum), else this
 * app's registry. With a token, a request without `Authorization: Bearer <token>` gets 401. When `text()` fails
 * the answer is 503 `{ status: "unavailable", reason }`.
 */
export function metricsRoute(metrics: Metrics, token: string | undefined, text: MetricsText = () => metrics.registry.metrics()): express.Router {
  const router = express.Router();
  router.get('/metrics', async (req, res) => {
    if (token !== undefined && !sameSecret(req.headers.authorization ?? '', `Bearer ${token}`)) {
      res.status(401).set('www-authenticate', 'Bearer').json({ status: 'unauthorized', reason: 'METRICS_TOKEN required' });
      return;
    }
    res.set('cache-control', 'no-store');
    let body: string;
    try {
      body = await text();
    } catch (error) {
      res.status(503).json({ status: 'unavailable', reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    res.set('content-type', metrics.registry.contentType).send(body);
  });
  return router;
}

/** Compares in constant time (hashes first, so the lengths match). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
