import { loadConfigOrExit } from './config.js';
import { locateDatabase, type DatabaseLocation } from './db/database.js';
import { createDataSource } from './db/data-source.js';
import { createLogger } from './logger.js';

/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database: the one a running
 * server on the same DATA_DIR uses (left running), or one started for the purpose and stopped again. Exits 0 when
 * the database is up to date, 1 otherwise.
 */
async function migrate(): Promise<number> {
  const config = loadConfigOrExit();
  const log = createLogger(config);
  let database: DatabaseLocation | undefined;
  try {
    database = await locateDatabase(config, log, { command: 'migrate', shareRunning: true });
    const dataSource = createDataSource({ url: database.url, logger: log });
    try {
      await dataSource.initialize();
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      log.info({ database: database.description, applied: applied.map((m) => m.name) }, applied.length ? 'migrated' : 'already up to date');
    } finally {
      await dataSource.destroy().catch(() => {});
    }
    return 0;
  } catch (error) {
    log.fatal({ err: error }, `migration failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await database?.stop().catch((error: unknown) => log.error({ err: error }, 'could not stop the embedded PostgreSQL'));
    log.flush();
  }
}

process.exit(await migrate());
