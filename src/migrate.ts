import { loadConfigOrExit } from './config.js';
import { locateDatabase } from './db/database.js';
import { createDataSource } from './db/data-source.js';
import { createLogger } from './logger.js';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database) and exits. */
async function migrate(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config);
  const database = await locateDatabase(config, log);
  const dataSource = createDataSource({ url: database.url, logger: log });
  try {
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    log.info({ database: database.description, applied: applied.map((m) => m.name) }, applied.length ? 'migrated' : 'already up to date');
  } finally {
    await dataSource.destroy().catch(() => {});
    await database.stop();
  }
}

await migrate();
