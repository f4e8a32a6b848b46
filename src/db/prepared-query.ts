import type { Pool } from 'pg';
import { QueryFailedError, type EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/**
 * Runs a hot statement as a named prepared statement straight on the pool, so PostgreSQL parses and plans it once
 * per connection instead of on every call (for the membership check that is most of its cost). Inside a
 * transaction (`db` bound to a query runner) it runs on that transaction's connection as any other statement. The
 * statement is reported to TypeORM's logger as usual, and a failure is TypeORM's QueryFailedError.
 */
export async function queryPrepared<T>(db: EntityManager, name: string, text: string, values: unknown[]): Promise<T[]> {
  if (db.queryRunner) return db.query(text, values);
  const { connection } = db;
  const pool = (connection.driver as PostgresDriver).master as Pool;
  connection.logger.logQuery(text, values);
  try {
    return (await pool.query({ name, text, values })).rows as T[];
  } catch (error) {
    connection.logger.logQueryError(error instanceof Error ? error : String(error), text, values);
    throw new QueryFailedError(text, values, error as Error);
  }
}
