/** The `extensions.code` values Parley's own errors carry. */
export type DomainErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'RATE_LIMITED' | 'SERVICE_UNAVAILABLE';

/**
 * A failure the client caused and can act on. Its message is shown to the client as is; anything that is not a
 * DomainError is masked as "Internal server error".
 */
export abstract class DomainError extends Error {
  abstract readonly code: DomainErrorCode;
}

/** No valid credentials: no token, a bad or expired token, or a failed sign-in. */
export class UnauthenticatedError extends DomainError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'You must be signed in') {
    super(message);
  }
}

/** The viewer can see the thing but may not do this to it. */
export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN';
}

/** It does not exist, or the viewer may not know that it exists. */
export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(what: string) {
    super(`${what} not found`);
  }
}

/** An argument is invalid; the message says which and why. */
export class BadUserInputError extends DomainError {
  readonly code = 'BAD_USER_INPUT';
  constructor(
    message: string,
    /** The argument at fault, reported as `extensions.argumentName`. */
    readonly argumentName?: string,
  ) {
    super(message);
  }
}

/** Too many attempts: try again after `retryAfter` seconds (reported as `extensions.retryAfter`). */
export class RateLimitedError extends DomainError {
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfter: number) {
    super(`Too many requests: try again in ${retryAfter} s`);
  }
}

/**
 * The database cannot be reached (down, restarting, or the connection died): nothing was changed that the client
 * was told about, and the same request can be retried shortly.
 */
export class ServiceUnavailableError extends DomainError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor() {
    super('The database is unavailable: try again shortly');
  }
}
