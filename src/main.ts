import { startApp, type RunningApp } from './app.js';
import { loadConfigOrExit } from './config.js';
import { createLogger } from './logger.js';

/** Reads the configuration, starts Parley and stops it cleanly on SIGINT/SIGTERM (exit 0). */
async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config);
  let app: RunningApp;
  try {
    app = await startApp(config, { logger: log });
  } catch (error) {
    log.fatal({ err: error }, 'Parley failed to start');
    log.flush();
    process.exitCode = 1;
    return;
  }
  const shutdown = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'shutting down');
    app.stop().then(
      () => {
        log.flush();
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

await main();
