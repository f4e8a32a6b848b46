import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';

export interface GraphQLResponse<TData> {
  status: number;
  data?: TData | null;
  errors?: GraphQLFormattedError[];
}

/** POSTs an operation to the server's /graphql, as any HTTP client would. */
export async function postGraphQL<TData, TVariables>(
  url: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  token?: string,
): Promise<GraphQLResponse<TData>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<TData>, 'status'>;
  return { status: response.status, ...body };
}

/** The data of a response that must have succeeded; throws with the errors otherwise. */
export function dataOf<TData>(response: GraphQLResponse<TData>): TData {
  if (response.errors?.length || !response.data) {
    throw new Error(`expected data, got ${JSON.stringify(response.errors ?? response)}`);
  }
  return response.data;
}

/** The `extensions.code` of each error of a response (empty when it succeeded). */
export function errorCodes(response: { errors?: readonly GraphQLFormattedError[] }): unknown[] {
  return (response.errors ?? []).map((e) => e.extensions?.['code']);
}

/** A client bound to one server and one user's token. */
export class HttpClient {
  constructor(
    readonly url: string,
    readonly token?: string,
  ) {}

  request<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables) {
    return postGraphQL(this.url, document, variables, this.token);
  }

  /** Runs the operation and returns its data; throws when it fails. */
  async data<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables): Promise<TData> {
    return dataOf(await this.request(document, variables));
  }
}
