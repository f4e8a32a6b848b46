import type { Pool } from 'pg';
import { QueryFailedError, type EntityManager } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/** Options of one statement. */
export interface QueryRowsOptions {
  /**
   * Runs it as a named prepared statement (outside a transaction), so PostgreSQL parses and plans it once per
   * connection instead of on every call: for hot statements, where planning is most of the cost.
   */
  prepareAs?: string;
}

/**
 * Runs one SQL statement and returns its rows, whatever its kind. (TypeORM's plain `query` returns
 * `[rows, affected]` for UPDATE and DELETE but rows for everything else, so a caller would have to know which.)
 * Inside a transaction (`db` bound to a query runner) it runs on that transaction's connection; otherwise on the
 * pool. The statement is reported to TypeORM's logger as usual, and a failure is TypeORM's QueryFailedError.
 */
export async function queryRows<T>(db: EntityManager, text: string, values: unknown[] = [], options: QueryRowsOptions = {}): Promise<T[]> {
  if (db.queryRunner) return (await db.queryRunner.query(text, values, true)).records as T[];
  const { connection } = db;
  const pool = (connection.driver as PostgresDriver).master as Pool;
  connection.logger.logQuery(text, values);
  try {
    const query = options.prepareAs ? { name: options.prepareAs, text, values } : { text, values };
    return (await pool.query(query)).rows as T[];
  } catch (error) {
    connection.logger.logQueryError(error instanceof Error ? error : String(error), text, values);
    throw new QueryFailedError(text, values, error as Error);
  }
}
