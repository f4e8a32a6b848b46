import type { Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from '../logger.js';

/** Called with every SQL statement the server sends; lets tests and metrics count statements. */
export type QueryObserver = (sql: string) => void;

/** Routes TypeORM's log calls to pino: statements at trace, failed ones at debug (the caller decides whether they matter), migrations at info. */
export class TypeOrmPinoLogger implements TypeOrmLogger {
  constructor(
    private readonly pino: Logger,
    private readonly observeQuery?: QueryObserver,
  ) {}

  logQuery(query: string): void {
    this.observeQuery?.(query);
    this.pino.trace({ sql: query }, 'sql');
  }

  logQueryError(error: string | Error, query: string): void {
    this.observeQuery?.(query);
    this.pino.debug({ err: error, sql: query }, 'sql failed');
  }

  logQuerySlow(time: number, query: string): void {
    this.pino.warn({ ms: time, sql: query }, 'slow sql');
  }

  logSchemaBuild(message: string): void {
    this.pino.debug(message);
  }

  logMigration(message: string): void {
    this.pino.info(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.pino.warn(String(message));
    else this.pino.debug(String(message));
  }
}
