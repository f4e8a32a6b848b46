import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { isDatabaseUnavailable } from '../db/database-unavailable.js';
import { DomainError, ServiceUnavailableError } from '../domain/errors.js';
import type { Logger } from '../logger.js';

export const INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR';

/**
 * Formats one error for a client; the same function serves HTTP (Apollo's `formatError`) and the WebSocket.
 * Domain errors keep their message and code; request errors (syntax, validation, variables) keep their message
 * and get `fallbackCode` when they carry none; a database that cannot be reached is SERVICE_UNAVAILABLE (retry);
 * anything else is logged in full and masked as
 * "Internal server error". It never throws.
 */
export type ErrorFormatter = (
  formatted: GraphQLFormattedError,
  error: unknown,
  fallbackCode?: string,
) => GraphQLFormattedError;

export function createErrorFormatter(log: Logger, options: { hideSuggestions: boolean }): ErrorFormatter {
  return (formatted, error, fallbackCode = INTERNAL_SERVER_ERROR) => {
    const { locations, path } = formatted;
    // In production, "Did you mean …?" would hand out the schema that introspection keeps back (both transports).
    const message = options.hideSuggestions ? formatted.message.replace(/ Did you mean .*\?$/, '') : formatted.message;
    const where = { ...(locations ? { locations } : {}), ...(path ? { path } : {}) };
    const unwrapped = innermost(error);
    // A database outage is the client's to retry, not a bug to hide: say so with a code of its own.
    const unavailable = !(unwrapped instanceof DomainError) && isDatabaseUnavailable(unwrapped);
    if (unavailable) log.warn({ err: unwrapped, path }, 'database unavailable during a GraphQL operation');
    const cause = unavailable ? new ServiceUnavailableError() : unwrapped;
    if (cause instanceof DomainError) {
      const argumentName = 'argumentName' in cause ? cause.argumentName : undefined;
      const retryAfter = 'retryAfter' in cause ? cause.retryAfter : undefined;
      return {
        message: cause.message,
        ...where,
        extensions: { code: cause.code, ...(argumentName ? { argumentName } : {}), ...(retryAfter !== undefined ? { retryAfter } : {}) },
      };
    }
    if (cause instanceof GraphQLError) {
      const code = formatted.extensions?.['code'] ?? cause.extensions['code'] ?? fallbackCode;
      if (code !== INTERNAL_SERVER_ERROR) return { message, ...where, extensions: { code } };
    }
    log.error({ err: cause, path }, 'unexpected error in a GraphQL operation');
    return { message: 'Internal server error', ...where, extensions: { code: INTERNAL_SERVER_ERROR } };
  };
}

/** The error actually thrown: resolver errors arrive wrapped in a GraphQLError, sometimes twice. */
function innermost(error: unknown): unknown {
  let current = unwrapResolverError(error);
  while (current instanceof GraphQLError && current.originalError) current = current.originalError;
  return current;
}
