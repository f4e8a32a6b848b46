import type { ExecutionResult, FormattedExecutionResult, GraphQLError, GraphQLFormattedError } from 'graphql';
import type { ErrorFormatter } from './errors.js';

/**
 * The payload of a `next` message for an execution result: errors formatted (errors without a resolver behind
 * them are variable coercion errors, as on HTTP). Shared by graphql-ws's onNext and the grouped fan-out, so both
 * send the same bytes.
 */
export function formatResult(result: ExecutionResult, formatError: ErrorFormatter): FormattedExecutionResult {
  if (!result.errors) return result as FormattedExecutionResult;
  return { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error, 'BAD_USER_INPUT')) };
}

/**
 * The payload of an `error` message (errors that stop an operation before or instead of results): the same
 * formatting as on HTTP, with request errors coded as validation failures.
 */
export function formatOperationErrors(errors: readonly GraphQLError[], formatError: ErrorFormatter): GraphQLFormattedError[] {
  return errors.map((error) => formatError(error.toJSON(), error, 'GRAPHQL_VALIDATION_FAILED'));
}
