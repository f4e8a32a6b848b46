import type { Registry } from 'prom-client';

/** One worker's metrics as prom-client's `getMetricsAsJSON()` gives them: what the primary aggregates. */
export type MetricsSnapshot = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** What a worker tells the primary over the cluster's IPC channel. */
export type WorkerMessage =
  /** startApp has bound the port (shared by every worker: port 0 is one port for all). */
  | { parley: 'listening'; url: string; port: number }
  /** GET /metrics arrived at this worker: aggregate every worker's metrics and answer with `metrics-result`. */
  | { parley: 'metrics-request'; requestId: number }
  /** This worker's own metrics, the answer to `metrics-collect`. */
  | { parley: 'metrics-report'; requestId: number; metrics: MetricsSnapshot };

/** What the primary tells a worker. */
export type PrimaryMessage =
  /** Send this worker's own metrics (`metrics-report`). */
  | { parley: 'metrics-collect'; requestId: number }
  /** The aggregate for the worker's `metrics-request`: Prometheus text, or why there is none. */
  | { parley: 'metrics-result'; requestId: number; text: string }
  | { parley: 'metrics-result'; requestId: number; error: string };

/** Whether an IPC message is one of Parley's own (others, a library's, are left alone). */
export function isParleyMessage<T extends WorkerMessage | PrimaryMessage>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && typeof (message as { parley?: unknown }).parley === 'string';
}

/**
 * Sends `message` to `worker` unless its channel has closed (it is exiting); false when it could not be sent. A
 * failure to deliver is not an error here: the worker's exit is handled where it is noticed.
 */
export function sendToWorker(worker: { isConnected(): boolean; send(message: PrimaryMessage, callback: (error: Error | null) => void): boolean }, message: PrimaryMessage): boolean {
  if (!worker.isConnected()) return false;
  try {
    worker.send(message, () => {});
    return true;
  } catch {
    return false;
  }
}
