import { print, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Connection } from './connection.js';
import { ParleyConnectionError, ParleyGraphQLError } from './errors.js';

/** A typed operation: a codegen `*Document` (document node) or a typed document string (`documentMode: string`). */
export type ParleyDocument<TData, TVariables> = TypedDocumentNode<TData, TVariables> | (string & { __apiType?: (variables: TVariables) => TData });

/** Where an operation goes: the open socket when there is one (`auto`), or always over HTTP. */
export type OperationRoute = 'auto' | 'http';

export type FetchLike = (input: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}>;

const texts = new WeakMap<DocumentNode, string>();

/** The GraphQL text of a document (printed once per document node). */
export function queryText<TData, TVariables>(document: ParleyDocument<TData, TVariables>): string {
  if (typeof document === 'string' || document instanceof String) return String(document);
  let text = texts.get(document);
  if (text === undefined) texts.set(document, (text = print(document)));
  return text;
}

interface ExecutionResult {
  data?: unknown;
  errors?: readonly GraphQLFormattedError[];
}

/**
 * Runs queries and mutations: over HTTP with `Authorization: Bearer`, or over the open socket.
 * Every method throws ParleyGraphQLError when the server answers with errors, ParleyConnectionError when it could
 * not be reached or the connection dropped before the answer.
 */
export class OperationRunner {
  constructor(
    private readonly httpUrl: string,
    private readonly fetchImpl: FetchLike,
    private readonly token: () => Promise<string | null>,
    private readonly connection: Connection,
    private readonly timeoutMs: number,
  ) {}

  async run<TData, TVariables>(
    document: ParleyDocument<TData, TVariables>,
    variables: TVariables,
    options: { route?: OperationRoute; token?: string } = {},
  ): Promise<TData> {
    const session = options.route === 'auto' ? this.connection.current() : undefined;
    const payload = { query: queryText(document), variables: (variables ?? {}) as Record<string, unknown> };
    const result: ExecutionResult = session ? await session.execute(payload) : await this.overHttp(payload, options.token);
    if (result.errors?.length) throw new ParleyGraphQLError(result.errors);
    if (result.data === undefined || result.data === null) throw new ParleyConnectionError('the answer carried no data');
    return result.data as TData;
  }

  private async overHttp(payload: { query: string; variables: Record<string, unknown> }, explicitToken?: string): Promise<ExecutionResult> {
    const token = explicitToken ?? (await this.token());
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
    if (token) headers['authorization'] = `Bearer ${token}`;
    // A stalled network never answers: give up after the timeout (and on close) so the caller can retry.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    const stop = () => abort.abort();
    this.connection.closedSignal.addEventListener('abort', stop, { once: true });
    let response: Awaited<ReturnType<FetchLike>>;
    let body: unknown;
    try {
      try {
        response = await this.fetchImpl(this.httpUrl, { method: 'POST', headers, body: JSON.stringify(payload), signal: abort.signal });
      } catch (error) {
        throw new ParleyConnectionError('the server could not be reached', { cause: error });
      }
      try {
        body = await response.json();
      } catch (error) {
        throw new ParleyConnectionError(`HTTP ${response.status} without a GraphQL answer`, { cause: error });
      }
    } finally {
      clearTimeout(timer);
      this.connection.closedSignal.removeEventListener('abort', stop);
    }
    if (typeof body !== 'object' || body === null || (!('data' in body) && !('errors' in body))) {
      throw new ParleyConnectionError(`HTTP ${response.status} without a GraphQL answer`);
    }
    return body as ExecutionResult;
  }
}
