import type http from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST, specifiedRules, type GraphQLSchema } from 'graphql';
import { CloseCode, handleProtocols, makeServer, MessageType, parseMessage, type Context } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { ANONYMOUS, type Authentication, type Authenticator } from '../auth/authenticator.js';
import { tokenFromAuthorization } from '../auth/tokens.js';
import type { Services } from '../domain/services.js';
import type { Logger } from '../logger.js';
import type { FanOutCounters } from '../realtime/fan-out-counters.js';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import { DocumentCache } from '../graphql/document-cache.js';
import type { ErrorFormatter } from '../graphql/errors.js';
import { formatOperationErrors, formatResult } from '../graphql/format-result.js';
import { extraValidationRules } from '../graphql/validation-rules.js';
import type { DirectDeliveryDeps } from './ws-direct-delivery.js';
import { DirectSubscriptions, isDirectSubscription } from './ws-direct-subscriptions.js';
import { keepSocketsAlive } from './ws-keepalive.js';

export interface WsTransportOptions {
  httpServer: http.Server;
  schema: GraphQLSchema;
  services: Services;
  authenticator: Authenticator;
  formatError: ErrorFormatter;
  log: Logger;
  production: boolean;
  counters: FanOutCounters;
  /** A subscriber whose socket buffer passes this many bytes is dropped (WS_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  /** Path of the endpoint, shared with HTTP. Default `/graphql`. */
  path?: string;
  /** Ping interval; a socket that misses a pong by the next one is terminated. Default 12 s (graphql-ws's). */
  keepAliveMs?: number;
}

type ConnectionParams = Record<string, unknown> | undefined;

/** What each socket remembers. */
interface SocketState extends Record<PropertyKey, unknown> {
  socket: WebSocket;
  /** Who authenticated on it, once, at connection_init. */
  auth: Authentication;
  /** Diagnostics (not in production): deliver with plain per-subscriber execution instead of the grouped path. */
  perSubscriberDelivery: boolean;
  /** graphql-ws's state of this connection (acknowledged, its own operations), known from connection_init on. */
  protocol?: Context<ConnectionParams, SocketState>;
  /** graphql-ws's message handler for everything the transport does not serve itself. */
  handle?: (data: string) => Promise<void>;
  /** Room subscriptions served by the grouped fan-out; created with the first. */
  direct?: DirectSubscriptions;
}

export interface WsTransport {
  /** Apollo plugin that closes every socket with 1001 (going away) when Apollo drains. */
  drainPlugin: ApolloServerPlugin<GraphQLContext>;
  /** Number of open sockets. */
  socketCount(): number;
}

/**
 * graphql-ws (`graphql-transport-ws`) on the HTTP server's port and path. The token in the `connection_init`
 * payload (`{ authorization: "Bearer …" }` or Hasura-style `{ headers: { Authorization: "Bearer …" } }`) is
 * verified once; a bad or expired one closes the socket with 4403 (CloseCode.Forbidden), none makes it anonymous.
 * Subscriptions to rooms are served by the transport itself (see DirectSubscriptions): the grouped fan-out writes
 * their frames to the socket. Everything else (the handshake, queries and mutations, other subscriptions, bad
 * messages) goes through graphql-ws, which parses, validates and executes on its own, so the HTTP side's
 * validation rules and error formatting are applied there explicitly.
 */
export function createWsTransport(options: WsTransportOptions): WsTransport {
  const wss = new WebSocketServer({ server: options.httpServer, path: options.path ?? '/graphql', perMessageDeflate: false, handleProtocols });
  const documents = new DocumentCache(options.schema, [...specifiedRules, ...extraValidationRules(options.production)]);
  const { formatError, log, schema, services } = options;
  const deliveryDeps: DirectDeliveryDeps = { schema, services, formatError, counters: options.counters, maxBufferedBytes: options.maxBufferedBytes };

  const protocol = makeServer<ConnectionParams, SocketState>({
    onConnect: async (ctx) => {
      const token = tokenFromConnectionParams(ctx.connectionParams);
      const auth = await options.authenticator.authenticate(token);
      if (auth.kind === 'refused') return false; // graphql-ws closes with CloseCode.Forbidden (4403)
      ctx.extra.auth = auth;
      ctx.extra.perSubscriberDelivery = !options.production && ctx.connectionParams?.['parleyDelivery'] === 'per-subscriber';
      ctx.extra.protocol = ctx;
      return true;
    },
    onSubscribe: (ctx, _id, payload) => {
      const prepared = documents.get(payload.query);
      if (!prepared.ok) return [...prepared.errors];
      return {
        schema,
        document: prepared.document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue: createContext(services, ctx.extra.auth),
      };
    },
    onError: (_ctx, _id, _payload, errors) => formatOperationErrors(errors, formatError),
    onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? formatResult(result, formatError) : undefined),
  });

  /** Serves a room subscription, or its client's `complete`, itself. False for messages graphql-ws handles. */
  const serveDirectly = (state: SocketState, data: string): boolean => {
    const ctx = state.protocol;
    if (!ctx?.acknowledged || state.perSubscriberDelivery) return false;
    let message;
    try {
      message = parseMessage(data);
    } catch {
      return false; // graphql-ws closes with 4400
    }
    if (message.type === MessageType.Complete) return state.direct?.complete(message.id) ?? false;
    if (message.type !== MessageType.Subscribe) return false;
    const { id, payload } = message;
    if (state.direct?.has(id)) {
      state.socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
      return true;
    }
    if (id in ctx.subscriptions) return false; // graphql-ws closes with 4409
    const prepared = documents.get(payload.query);
    if (!prepared.ok || !isDirectSubscription(getOperationAST(prepared.document, payload.operationName))) return false;
    state.direct ??= new DirectSubscriptions(state.socket, deliveryDeps);
    void state.direct.start(id, prepared, payload, state.auth).catch((error: unknown) => failed(state.socket, error));
    return true;
  };

  const failed = (socket: WebSocket, error: unknown) => {
    log.error({ err: error }, 'internal error while handling a WebSocket message');
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  };

  wss.on('connection', (socket) => {
    const state: SocketState = { socket, auth: ANONYMOUS, perSubscriberDelivery: false };
    socket.once('error', onSocketError);
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) => new Promise<void>((resolve, reject) => {
          if (socket.readyState !== socket.OPEN) return resolve();
          socket.send(data, (error) => (error ? reject(error) : resolve()));
        }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) => (state.handle = handle),
      },
      state,
    );
    socket.on('message', (data) => {
      const text = String(data);
      try {
        if (!serveDirectly(state, text)) state.handle?.(text).catch((error: unknown) => failed(socket, error));
      } catch (error) {
        failed(socket, error);
      }
    });
    socket.once('close', (code, reason) => {
      state.direct?.closeAll();
      void closed(code, String(reason));
    });
  });
  function onSocketError(this: WebSocket, error: Error): void {
    // ws has already closed the socket with the matching code (e.g. 1009 for a frame over the size limit).
    log.debug({ err: error }, 'WebSocket protocol error');
    this.close(CloseCode.InternalServerError, 'Internal server error');
  }
  const stopKeepAlive = keepSocketsAlive(wss, options.keepAliveMs ?? 12_000);

  return {
    drainPlugin: {
      async serverWillStart() {
        return {
          drainServer: async () => {
            stopKeepAlive();
            for (const socket of wss.clients) socket.close(1001, 'Going away');
            await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
          },
        };
      },
    },
    socketCount: () => wss.clients.size,
  };
}

/** The token of a connection_init payload, in either accepted shape; undefined when there is none. */
export function tokenFromConnectionParams(params: Record<string, unknown> | undefined): string | undefined {
  if (!params) return undefined;
  const headers = params['headers'];
  const nested = headers && typeof headers === 'object' ? (headers as Record<string, unknown>) : {};
  return tokenFromAuthorization(
    params['authorization'] ?? params['Authorization'] ?? nested['Authorization'] ?? nested['authorization'],
  );
}
