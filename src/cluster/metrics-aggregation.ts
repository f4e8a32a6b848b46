import type { Worker } from 'node:cluster';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from '../logger.js';
import { sendToWorker, type MetricsSnapshot } from './messages.js';

/** How long the primary waits for a worker's metrics before it aggregates without them. */
const REPORT_TIMEOUT_MS = 2000;

interface Collection {
  /** Ids of the workers asked that have not answered yet. */
  waiting: Set<number>;
  reports: { workerId: number; metrics: MetricsSnapshot }[];
  finish(): void;
}

/**
 * The primary's side of GET /metrics in cluster mode: asks every listening worker for its own metrics and sums them
 * (prom-client's aggregation: counters, gauges and histograms are summed; its default metrics say where not, e.g.
 * event-loop lag is averaged). Adds the primary's own figures (`parley_cluster_*`) and each worker's open sockets
 * (`parley_worker_websocket_connections{worker}`), to see how the connections are spread.
 */
export class ClusterMetrics {
  private readonly registry = new Registry();
  private readonly restarts: Counter;
  private readonly collections = new Map<number, Collection>();
  private nextRequestId = 0;

  /** `listeningWorkers` gives the workers to ask: those whose app is up (a starting one has no metrics yet). */
  constructor(
    private readonly listeningWorkers: () => Worker[],
    private readonly log: Logger,
  ) {
    const listening = () => this.listeningWorkers().length;
    new Gauge({ name: 'parley_cluster_workers', help: 'Worker processes listening (cluster mode).', registers: [this.registry], collect() { this.set(listening()); } });
    this.restarts = new Counter({ name: 'parley_cluster_worker_restarts_total', help: 'Workers restarted after exiting unexpectedly (cluster mode).', registers: [this.registry] });
  }

  /** Counts one restart of a worker. */
  workerRestarted(): void {
    this.restarts.inc();
  }

  /**
   * The aggregate in the Prometheus text format. A worker that does not answer within 2 s, or exits meanwhile, is
   * left out (logged) rather than failing the scrape. Does not throw.
   */
  async aggregate(): Promise<string> {
    const requestId = this.nextRequestId++;
    const workers = this.listeningWorkers();
    const reports = await new Promise<Collection['reports']>((resolve) => {
      const collection: Collection = {
        waiting: new Set(),
        reports: [],
        finish: () => {
          clearTimeout(timer);
          if (!this.collections.delete(requestId)) return;
          if (collection.waiting.size > 0) this.log.warn({ workers: [...collection.waiting], timeoutMs: REPORT_TIMEOUT_MS }, 'metrics: workers did not report in time; aggregated without them');
          resolve(collection.reports);
        },
      };
      const timer = setTimeout(collection.finish, REPORT_TIMEOUT_MS);
      this.collections.set(requestId, collection);
      for (const worker of workers) {
        if (sendToWorker(worker, { parley: 'metrics-collect', requestId })) collection.waiting.add(worker.id);
      }
      if (collection.waiting.size === 0) collection.finish();
    });
    const snapshots = reports.map((report) => report.metrics);
    const aggregated = AggregatorRegistry.aggregate([...snapshots, socketsPerWorker(reports), await this.registry.getMetricsAsJSON()]);
    return aggregated.metrics();
  }

  /** A worker's answer (`metrics-report`) to a collection. */
  received(worker: Worker, requestId: number, metrics: MetricsSnapshot): void {
    const collection = this.collections.get(requestId);
    if (!collection?.waiting.delete(worker.id)) return;
    collection.reports.push({ workerId: worker.id, metrics });
    if (collection.waiting.size === 0) collection.finish();
  }

  /** A worker exited: collections stop waiting for it. */
  workerGone(worker: Worker): void {
    for (const collection of [...this.collections.values()]) {
      if (collection.waiting.delete(worker.id) && collection.waiting.size === 0) collection.finish();
    }
  }
}

/** `parley_websocket_connections` of each worker, labelled with its id (distinct labels: the sum keeps them apart). */
function socketsPerWorker(reports: Collection['reports']): MetricsSnapshot {
  const found = reports.flatMap(({ workerId, metrics }) => {
    const gauge = metrics.find((metric) => metric.name === 'parley_websocket_connections');
    return gauge ? [{ workerId, gauge }] : [];
  });
  if (found.length === 0) return [];
  return [
    {
      ...found[0]!.gauge,
      name: 'parley_worker_websocket_connections',
      help: 'Open WebSocket connections of each worker (cluster mode).',
      values: found.map(({ workerId, gauge }) => ({ labels: { worker: String(workerId) }, value: gauge.values[0]?.value ?? 0 })),
    },
  ];
}
