import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { AsyncQueue } from './async-queue.js';

/** The end of a subscription: completed by the server, failed with errors, or the socket closed. */
export type SubscriptionEnd =
  | { kind: 'complete' }
  | { kind: 'error'; errors: readonly GraphQLFormattedError[] }
  | { kind: 'closed'; code: number; reason: string };

/** One subscription: results in order, and how it ended. */
export interface TestSubscription<TData> {
  results: AsyncQueue<FormattedExecutionResult<TData>>;
  ended: Promise<SubscriptionEnd>;
  /** Completes it from the client side. */
  unsubscribe(): void;
}

export interface TestWsClient {
  client: Client;
  /** Resolves with the close event once the socket closes. */
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves once the server acknowledged connection_init. */
  connected: Promise<void>;
  subscribe<TData, TVariables>(document: TypedDocumentNode<TData, TVariables>, variables: TVariables): TestSubscription<TData>;
  /** Closes the socket abruptly (no complete messages), as a dropped network would. */
  drop(): void;
  dispose(): Promise<void>;
}

/** A real graphql-ws client over the `ws` package; never retries, so tests see every close. */
export function connectWs(wsUrl: string, connectionParams?: Record<string, unknown>): TestWsClient {
  let socket: WebSocket | undefined;
  let resolveClosed!: (event: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => (resolveClosed = resolve));
  let resolveConnected!: () => void;
  let rejectConnected!: (error: Error) => void;
  const connected = new Promise<void>((resolve, reject) => {
    resolveConnected = resolve;
    rejectConnected = reject;
  });
  connected.catch(() => {}); // a test that expects a refusal awaits `closed` instead
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams,
    on: {
      opened: (s) => (socket = s as WebSocket),
      connected: () => resolveConnected(),
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        resolveClosed({ code, reason: String(reason) });
        rejectConnected(new Error(`closed before ack: ${code} ${reason}`));
      },
    },
    onNonLazyError: () => {},
  });
  return {
    client,
    closed,
    connected,
    subscribe(document, variables) {
      const results = new AsyncQueue<FormattedExecutionResult<any>>();
      let resolveEnded!: (end: SubscriptionEnd) => void;
      const ended = new Promise<SubscriptionEnd>((resolve) => (resolveEnded = resolve));
      const unsubscribe = client.subscribe(
        { query: print(document), variables: variables as Record<string, unknown> },
        {
          next: (result) => results.push(result as FormattedExecutionResult<any>),
          error: (error) => {
            if (Array.isArray(error)) resolveEnded({ kind: 'error', errors: error });
            else {
              const { code, reason } = error as { code: number; reason: string };
              resolveEnded({ kind: 'closed', code, reason: String(reason) });
            }
          },
          complete: () => resolveEnded({ kind: 'complete' }),
        },
      );
      return { results, ended, unsubscribe };
    },
    drop() {
      socket?.terminate();
    },
    async dispose() {
      await client.dispose();
    },
  };
}

/**
 * graphql-ws does not acknowledge a subscription, so a test learns that one is live by sending probes until one
 * arrives (each wait is bounded; nothing sleeps). Returns the first probe received: every message
 * committed after it must be delivered.
 */
export async function waitUntilLive<TMessage extends { seq: number }>(
  results: AsyncQueue<FormattedExecutionResult<{ messageAdded: TMessage }>>,
  sendProbe: () => Promise<unknown>,
  attempts = 50,
): Promise<TMessage> {
  return waitUntilLiveWith(results, (data) => data.messageAdded, sendProbe, attempts);
}

/** waitUntilLive for any subscription: `pick` extracts the item from the first result that arrives. */
export async function waitUntilLiveWith<TData, TItem>(
  results: AsyncQueue<FormattedExecutionResult<TData>>,
  pick: (data: TData) => TItem,
  sendProbe: () => Promise<unknown>,
  attempts = 50,
): Promise<TItem> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    await sendProbe();
    let first: FormattedExecutionResult<TData>;
    try {
      first = await results.take(200, 'a probe');
    } catch {
      continue; // not live yet: probe again
    }
    if (!first.data) throw new Error(`subscription failed: ${JSON.stringify(first.errors)}`);
    return pick(first.data);
  }
  throw new Error(`subscription not live after ${attempts} probes`);
}
