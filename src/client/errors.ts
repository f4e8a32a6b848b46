import type { GraphQLFormattedError } from 'graphql';

/**
 * Error codes (`extensions.code`) that a retry cannot fix: the SDK rejects or reports them at once instead of
 * retrying (README "Errors").
 */
export const PERMANENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
]);

/** The server answered an operation with GraphQL errors; `code` is the first error's `extensions.code`. */
export class ParleyGraphQLError extends Error {
  override readonly name = 'ParleyGraphQLError';
  readonly code: string | undefined;
  constructor(readonly errors: readonly GraphQLFormattedError[]) {
    super(errors.map((e) => e.message).join('; ') || 'GraphQL error');
    const code = errors[0]?.extensions?.['code'];
    this.code = typeof code === 'string' ? code : undefined;
  }
  /** True when retrying the same operation cannot succeed (see PERMANENT_ERROR_CODES). */
  get permanent(): boolean {
    return this.code !== undefined && PERMANENT_ERROR_CODES.has(this.code);
  }
}

/**
 * The server could not be reached or the connection went away before the answer: the operation may or may not
 * have run. Always worth retrying (sends are retried with the same clientMessageId, so they are stored once).
 */
export class ParleyConnectionError extends Error {
  override readonly name = 'ParleyConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The server closed the socket with a code that reconnecting cannot fix (see `closeVerdict`): the client stops
 * reconnecting and is `closed`. `closeCode` and `reason` are the server's.
 */
export class ParleyCloseError extends Error {
  override readonly name: string = 'ParleyCloseError';
  constructor(
    readonly closeCode: number,
    readonly reason: string,
    message = `the server closed the connection for good: ${closeCode} ${reason}`,
  ) {
    super(message);
  }
}

/**
 * The server refused the client's token: a WebSocket close 4403 ("Invalid token", "Token expired", "Signed out").
 * The client stops reconnecting (status `closed`): sign in again and create a new client.
 */
export class ParleyAuthError extends ParleyCloseError {
  override readonly name: string = 'ParleyAuthError';
  constructor(closeCode: number, reason: string) {
    super(closeCode, reason, `authentication failed: ${closeCode} ${reason}`);
  }
}

/**
 * The server closed the socket because the client broke the graphql-ws protocol (4400 bad request, 4401 subscribe
 * before acknowledgement, 4406 subprotocol, 4409 duplicate subscriber id, 4429 repeated connection_init): a bug or
 * an incompatible client/server pair that would fail the same way on every reconnect, so the client is `closed`.
 */
export class ParleyProtocolError extends ParleyCloseError {
  override readonly name: string = 'ParleyProtocolError';
  constructor(closeCode: number, reason: string) {
    super(closeCode, reason, `the server rejected the client's protocol use: ${closeCode} ${reason}`);
  }
}

/** The operation was abandoned because `close()` was called (or the client closed after an auth failure). */
export class ParleyClientClosedError extends Error {
  override readonly name = 'ParleyClientClosedError';
  constructor() {
    super('the Parley client is closed');
  }
}

/** Whether an operation that failed with `error` should be retried. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ParleyGraphQLError) return !error.permanent;
  return error instanceof ParleyConnectionError;
}
