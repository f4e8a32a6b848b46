/** Error codes of a database that is down, restarting or unreachable (socket errors and SQLSTATE classes 08, 57P). */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', '57P01', '57P02', '57P03']);

/**
 * What node-postgres says when a connection dies or cannot be made in time (it sets no code for these). Not pg-pool's
 * "timeout exceeded when trying to connect": that is every pooled connection being busy, an overload of a healthy
 * database, which closing subscribers' sockets would only make worse.
 */
const UNAVAILABLE_MESSAGES = /^Connection terminated|Client has encountered a connection error and is not queryable/;

/**
 * True when `error` (or anything in its cause chain, including TypeORM's `driverError`) says the database could
 * not be reached or went away mid-statement: a condition worth retrying, unlike a failing statement.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (UNAVAILABLE_MESSAGES.test(current.message)) return true;
    current = (current as { driverError?: unknown }).driverError ?? current.cause;
  }
  return false;
}
