import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { startApp, type AppStats, type RunningApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { BACKGROUND_INDEXER_TAG } from '../../src/db/queries/search-index.js';
import type { Clock } from '../../src/domain/clock.js';
import type { Logger } from '../../src/logger.js';

/** A Parley server on port 0 with a database of its own, dropped by `stop()`. */
export interface TestServer {
  url: string;
  wsUrl: string;
  /**
   * SQL statements sent by the server so far (unless started with recordSql: false), except the search indexer's,
   * which runs on a timer and would otherwise land at random among the statements of the request a test counts.
   */
  readonly sqlStatements: readonly string[];
  /** The fan-out's live figures. */
  stats(): AppStats;
  /** This server's database, for tests that need a connection of their own (to hold a lock, say). */
  databaseUrl: string;
  /** Runs SQL directly against this server's database (for assertions). */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** The app's graceful drain (what SIGTERM does); resolves once stopped. `stop()` afterwards still drops the database. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/** The PostgreSQL server the suite uses: DATABASE_URL (test/run-tests.ts sets it to an embedded one when unset). */
function serverUrl(): string {
  const url = process.env['DATABASE_URL'];
  if (!url) throw new Error('DATABASE_URL is not set: run the suite with `npm test`');
  return url;
}

function databaseUrl(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdminClient<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A database of its own on the suite's PostgreSQL server. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${name}`));
  return {
    url: databaseUrl(name),
    drop: () => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/**
 * Starts a server on a fresh database; extra environment variables override the test defaults. With `database`,
 * it runs on that one instead and leaves it in place on `stop()` (a restart: the caller drops it).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { clock?: Clock; recordSql?: boolean; logger?: Logger; serializeStreamEvents?: boolean; database?: TestDatabase } = {},
): Promise<TestServer> {
  const { recordSql = true, database: shared, ...appOptions } = options;
  const database = shared ?? (await createTestDatabase());
  const statements: string[] = [];
  let app: RunningApp;
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  // pool.end() resolves before its sockets have closed, so DROP DATABASE ... WITH (FORCE) may still terminate one:
  // that error is expected and must not become an uncaught exception.
  pool.on('error', () => {});
  const dropDatabase = async () => {
    await pool.end();
    if (!shared) await database.drop();
  };
  try {
    const config = loadConfig({
      DATABASE_URL: database.url,
      PORT: '0',
      NODE_ENV: 'test',
      JWT_SECRET: randomBytes(32).toString('hex'),
      RATE_LIMITS: 'off', // tests send in bulk; the limits are tested with their defaults by turning them on
      ...env,
    });
    app = await startApp(config, {
      logger: pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'fatal' }),
      ...(recordSql ? { observeQuery: (sql: string) => void (sql.startsWith(BACKGROUND_INDEXER_TAG) || statements.push(sql)) } : {}),
      ...appOptions,
    });
  } catch (error) {
    await dropDatabase();
    throw error;
  }
  return {
    url: app.url,
    wsUrl: app.url.replace(/^http/, 'ws'),
    sqlStatements: statements,
    databaseUrl: database.url,
    stats: () => app.stats(),
    sql: async (text, params) => (await pool.query(text, params)).rows,
    drain: () => app.drain(),
    async stop() {
      await app.stop();
      await dropDatabase();
    },
  };
}
