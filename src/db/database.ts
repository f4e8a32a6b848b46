import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { DataDirInUseError } from './data-dir-lock.js';
import { startEmbeddedPostgres, urlOfRunningEmbeddedPostgres } from './embedded-postgres.js';

/** Where the server's data lives: DATABASE_URL, or an embedded cluster it started and must stop. */
export interface DatabaseLocation {
  url: string;
  /** For logs: the URL without its password, or the embedded data directory. */
  description: string;
  /** Stops the embedded cluster if this process started it; a no-op otherwise. */
  stop(): Promise<void>;
}

export interface LocateOptions {
  /** What this process is, recorded as the owner of DATA_DIR: `server` (default) or `migrate`. */
  command?: 'server' | 'migrate';
  /**
   * When another live process owns DATA_DIR and runs its embedded PostgreSQL: use that PostgreSQL (and leave it
   * running) instead of failing. For `npm run migrate` beside a running server.
   */
  shareRunning?: boolean;
}

/**
 * Uses DATABASE_URL when set; otherwise starts the embedded PostgreSQL under DATA_DIR, which this process then owns.
 * @throws DataDirInUseError when another live process owns DATA_DIR (unless `shareRunning` finds its PostgreSQL).
 */
export async function locateDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  log: Logger,
  options: LocateOptions = {},
): Promise<DatabaseLocation> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, description: redactPassword(config.databaseUrl), stop: async () => {} };
  }
  try {
    const embedded = await startEmbeddedPostgres(config.dataDir, log, { command: options.command ?? 'server' });
    return { url: embedded.url, description: `embedded PostgreSQL (${config.dataDir}/postgres)`, stop: embedded.stop };
  } catch (error) {
    if (!(error instanceof DataDirInUseError) || !options.shareRunning) throw error;
    const { owner } = error;
    const url = await urlOfRunningEmbeddedPostgres(config.dataDir, owner);
    if (!url) {
      throw new Error(`${error.message}; its embedded PostgreSQL is not running yet: try again once it is listening`, { cause: error });
    }
    log.info({ pid: owner.pid, port: owner.postgres?.port }, 'DATA_DIR is in use by a running Parley: using its embedded PostgreSQL, which stays running');
    return {
      url,
      description: `embedded PostgreSQL of pid ${owner.pid} (${config.dataDir}/postgres)`,
      stop: async () => {},
    };
  }
}

function redactPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
