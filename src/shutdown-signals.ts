import { constants } from 'node:os';
import type { Logger } from './logger.js';

/**
 * A repeated signal within this time of the first is taken for a copy of it (`npm start` forwards the signal the
 * process already got from the terminal or from systemd, and a terminal's Ctrl-C reaches every process of the group)
 * and ignored; a later one forces the exit.
 */
export const FORCE_AFTER_MS = 3000;

/**
 * Calls `shutDown` once, for the first SIGINT or SIGTERM. A repeated signal within {@link FORCE_AFTER_MS} of the
 * first is logged and ignored; a later one is logged as `forced exit` and calls `exit(128 + signal number)`.
 */
export function onShutdownSignals(log: Logger, shutDown: (signal: NodeJS.Signals) => void, exit: (code: number) => void): void {
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!first) {
      first = { signal, at: Date.now() };
      shutDown(signal);
      return;
    }
    const waited = Date.now() - first.at;
    if (waited < FORCE_AFTER_MS) {
      log.info({ signal }, `already shutting down; a signal ${FORCE_AFTER_MS / 1000} s after the first forces the exit`);
      return;
    }
    log.warn({ signal, waitedMs: waited }, 'forced exit: the shutdown had not finished');
    exit(128 + constants.signals[signal]);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
