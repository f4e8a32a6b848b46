import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

/** Where the server's data lives: DATABASE_URL, or an embedded cluster it started and must stop. */
export interface DatabaseLocation {
  url: string;
  /** For logs: the URL without its password, or the embedded data directory. */
  description: string;
  /** Stops the embedded cluster; a no-op for an external database. */
  stop(): Promise<void>;
}

/** Uses DATABASE_URL when set; otherwise starts the embedded PostgreSQL under DATA_DIR. */
export async function locateDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, log: Logger): Promise<DatabaseLocation> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, description: redactPassword(config.databaseUrl), stop: async () => {} };
  }
  const embedded = await startEmbeddedPostgres(config.dataDir, log);
  return { url: embedded.url, description: `embedded PostgreSQL (${config.dataDir}/postgres)`, stop: embedded.stop };
}

function redactPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
