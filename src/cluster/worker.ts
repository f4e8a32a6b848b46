import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import type { AppOptions, RunningApp } from '../app.js';
import type { Logger } from '../logger.js';
import type { MetricsText } from '../transport/metrics.js';
import { isParleyMessage, type PrimaryMessage, type WorkerMessage } from './messages.js';

/** How long a worker waits for the primary's aggregate before GET /metrics answers 503. */
const AGGREGATE_TIMEOUT_MS = 5000;

/** The log line a worker writes once it listens; `Parley is listening` is the primary's, once every worker is up. */
export const WORKER_LISTENING = 'worker listening';

/** What running as a cluster worker changes in the single-process start (main.ts). */
export interface ClusterWorker {
  /** The process logger with `worker: <id>` on every line. */
  log: Logger;
  /** For startApp: that logger, the worker's listening line, and /metrics summed over every worker. */
  appOptions: Pick<AppOptions, 'logger' | 'listeningMessage' | 'aggregateMetrics'>;
  /** Tells the primary that the app listens, and on which port (port 0 is one port shared by every worker). */
  listening(app: RunningApp): void;
}

/** Joins the cluster this process was forked into (call only when `cluster.isWorker`). */
export function joinCluster(log: Logger): ClusterWorker {
  const workerLog = log.child({ worker: cluster.worker!.id });
  return {
    log: workerLog,
    appOptions: { logger: workerLog, listeningMessage: WORKER_LISTENING, aggregateMetrics: (local) => aggregateThroughPrimary(local, workerLog) },
    listening: (app) => void send({ parley: 'listening', url: app.url, port: app.port }),
  };
}

/**
 * Answers the primary's requests for this worker's metrics from `local`, and returns what GET /metrics serves: the
 * primary's sum over every worker, asked for over IPC.
 */
function aggregateThroughPrimary(local: Registry, log: Logger): MetricsText {
  const waiting = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();
  let nextRequestId = 0;
  process.on('message', (message: unknown) => {
    if (!isParleyMessage<PrimaryMessage>(message)) return;
    switch (message.parley) {
      case 'metrics-collect':
        local.getMetricsAsJSON().then(
          (metrics) => send({ parley: 'metrics-report', requestId: message.requestId, metrics }),
          (error: unknown) => log.error({ err: error }, 'could not read this worker’s metrics for the primary'),
        );
        return;
      case 'metrics-result': {
        const request = waiting.get(message.requestId);
        if (!request) return;
        if ('text' in message) request.resolve(message.text);
        else request.reject(new Error(message.error));
        return;
      }
      default:
        return message satisfies never;
    }
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const requestId = nextRequestId++;
      const timer = setTimeout(() => settle(() => reject(new Error(`the cluster primary did not aggregate the metrics within ${AGGREGATE_TIMEOUT_MS} ms`))), AGGREGATE_TIMEOUT_MS);
      const settle = (outcome: () => void) => {
        clearTimeout(timer);
        waiting.delete(requestId);
        outcome();
      };
      waiting.set(requestId, { resolve: (text) => settle(() => resolve(text)), reject: (error) => settle(() => reject(error)) });
      if (!send({ parley: 'metrics-request', requestId })) settle(() => reject(new Error('the cluster primary is gone')));
    });
}

/** Sends to the primary; false when the channel has closed (the primary is gone or this worker is exiting). */
function send(message: WorkerMessage): boolean {
  if (!process.connected || !process.send) return false;
  try {
    process.send(message, undefined, {}, () => {});
    return true;
  } catch {
    return false;
  }
}
