import type http from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { getOperationAST, GraphQLError, specifiedRules, type GraphQLSchema } from 'graphql';
import { CloseCode, handleProtocols, makeServer, MessageType, parseMessage, stringifyMessage, type Context } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { ANONYMOUS, type Authentication, type Authenticator } from '../auth/authenticator.js';
import { tokenFromAuthorization } from '../auth/tokens.js';
import { isDatabaseUnavailable } from '../db/database-unavailable.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { Services } from '../domain/services.js';
import type { Logger } from '../logger.js';
import type { FanOutCounters } from '../realtime/fan-out-counters.js';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import { DocumentCache } from '../graphql/document-cache.js';
import type { ErrorFormatter } from '../graphql/errors.js';
import { formatOperationErrors, formatResult } from '../graphql/format-result.js';
import { fieldsWithDirective } from '../graphql/schema-directives.js';
import { extraValidationRules } from '../graphql/validation-rules.js';
import { DATABASE_UNAVAILABLE_CLOSE_CODE, DATABASE_UNAVAILABLE_CLOSE_REASON, type DirectDeliveryDeps } from './ws-direct-delivery.js';
import { DirectSubscriptions, isDirectSubscription } from './ws-direct-subscriptions.js';
import { createSharedEventSubscribe } from './shared-event-renders.js';
import type { ClientAddressOf } from './client-address.js';
import type { OriginPolicy } from './origin-policy.js';
import { keepSocketsAlive } from './ws-keepalive.js';
import { SocketSessions, type Admission, type SessionState } from './ws-sessions.js';

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
  /** Ping interval; a socket that misses a pong by the next one is terminated (WS_KEEPALIVE). */
  keepAliveMs: number;
  /** Time authenticating a connection_init may take before the socket is closed with 4408 (WS_CONNECT_TIMEOUT). */
  connectTimeoutMs: number;
  /** Browser origins allowed to open sockets besides the server's own (CORS_ORIGINS). */
  origins: OriginPolicy;
  /** The client address of an upgrade request (TRUST_PROXY). */
  clientAddressOf: ClientAddressOf;
  /** Largest message in bytes (WS_MAX_PAYLOAD); a larger one closes the socket with 1009. */
  maxPayload: number;
  /** Time to send connection_init before the socket is closed with 4408 (WS_CONNECTION_INIT_TIMEOUT). */
  connectionInitTimeoutMs: number;
  /** Operations (subscriptions, and queries or mutations in flight) one socket may have open at once. */
  maxOperationsPerSocket: number;
  /** Sockets one user may have open at once (WS_MAX_SOCKETS_PER_USER); 0: no cap. */
  maxSocketsPerUser: number;
  /** Times the close of a socket whose token expires. Default the system clock. */
  clock?: Clock;
}

type ConnectionParams = Record<string, unknown> | undefined;

/** What each socket remembers. */
interface SocketState extends SessionState, Record<PropertyKey, unknown> {
  socket: WebSocket;
  /** Who authenticated on it (at connection_init, or later through `authenticate`). */
  auth: Authentication;
  /** The peer address (for per-address rate limits). */
  clientAddress: string | undefined;
  /** Diagnostics (not in production): deliver with plain per-subscriber execution instead of the grouped path. */
  perSubscriberDelivery: boolean;
  /** graphql-ws's state of this connection (acknowledged, its own operations), known from connection_init on. */
  protocol?: Context<ConnectionParams, SocketState>;
  /** graphql-ws's message handler for everything the transport does not serve itself. */
  handle?: (data: string) => Promise<void>;
  /** Room subscriptions served by the grouped fan-out; created with the first. */
  direct?: DirectSubscriptions;
}

/** Close code for sockets closed because the server stops for good (or for an unknown time): 1001, going away. */
export const GOING_AWAY_CLOSE_CODE = 1001;
/** Close code for sockets closed by a graceful drain (SIGTERM): 1012, service restart; reconnect (elsewhere) now. */
export const SERVICE_RESTART_CLOSE_CODE = 1012;

export interface WsTransport {
  /**
   * Apollo plugin that closes every socket when Apollo drains: with 1001 (going away), or 1012 (service restart)
   * after `restarting()`.
   */
  drainPlugin: ApolloServerPlugin<GraphQLContext>;
  /** The coming drain is a restart: sockets are closed with 1012 so clients reconnect at once and resume. */
  restarting(): void;
  /** Number of open sockets. */
  socketCount(): number;
  /** Whether the user has an authenticated socket open on this transport now (offline notifications ask). */
  isConnected(userId: string): boolean;
  /**
   * The user's tokens were revoked (sign-out, password change, account deletion; in this process or another): closes
   * the user's sockets with 4403, except one renewing its credentials in this process.
   */
  signedOut(userId: string): void;
  /**
   * Closes sockets whose token a sign-out revoked without this process hearing of it: `currentVersions` reads the
   * asked users' token versions now. Returns the users whose sockets it closed.
   */
  revalidate(currentVersions: (userIds: readonly string[]) => Promise<ReadonlyMap<string, number>>): Promise<string[]>;
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
  const wss = new WebSocketServer({
    server: options.httpServer,
    path: options.path ?? '/graphql',
    perMessageDeflate: false,
    handleProtocols,
    maxPayload: options.maxPayload,
    // Browsers send Origin with every upgrade and do not apply CORS to it: refuse foreign pages before the 101.
    verifyClient: (info, allow) => allow(options.origins.allowsUpgrade(info.req.headers.origin, info.req.headers.host), 403, 'Origin not allowed'),
  });
  const sessions = new SocketSessions(options.authenticator, options.maxSocketsPerUser, options.clock ?? systemClock, options.services.presence);
  const tooManyOperations = (state: SocketState, including: number) =>
    (state.direct?.size ?? 0) + Object.keys(state.protocol?.subscriptions ?? {}).length + including > options.maxOperationsPerSocket;
  const operationLimitError = () =>
    new GraphQLError(`Too many operations on this socket (at most ${options.maxOperationsPerSocket}): complete some first`, {
      extensions: { code: 'TOO_MANY_OPERATIONS' },
    });
  /** connection_init: checks the token and admits the socket; false when refused (the socket is closed then). */
  const connect = async (ctx: Context<ConnectionParams, SocketState>, admission: Admission): Promise<boolean> => {
    const token = tokenFromConnectionParams(ctx.connectionParams);
    let auth;
    try {
      auth = await withTimeout(options.authenticator.authenticate(token), options.connectTimeoutMs);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error; // graphql-ws closes with 4500
      // The user lookup needs the database: a close stock clients retry, unlike 4500.
      ctx.extra.socket.close(DATABASE_UNAVAILABLE_CLOSE_CODE, DATABASE_UNAVAILABLE_CLOSE_REASON);
      return false;
    }
    if (auth === 'timed out') {
      ctx.extra.socket.close(CloseCode.ConnectionInitialisationTimeout, 'Authentication timed out');
      return false;
    }
    if (auth.kind === 'refused') {
      // Closed here, not by graphql-ws: its close after `false` always says "Forbidden", whatever was wrong.
      ctx.extra.socket.close(CloseCode.Forbidden, auth.reason);
      return false;
    }
    if (ctx.extra.socket.readyState !== ctx.extra.socket.OPEN) return false; // gone while authenticating
    if (!(await sessions.admit(ctx.extra, auth, admission))) return false; // over the user's socket cap (closed with 1008), or gone
    ctx.extra.perSubscriberDelivery = !options.production && ctx.connectionParams?.['parleyDelivery'] === 'per-subscriber';
    ctx.extra.protocol = ctx;
    return true;
  };
  const documents = new DocumentCache(options.schema, [...specifiedRules, ...extraValidationRules(options.production)]);
  const { formatError, log, schema, services } = options;
  const roomStreamFields = fieldsWithDirective(schema, 'roomStream');
  const deliveryDeps: DirectDeliveryDeps = { schema, services, formatError, counters: options.counters, maxBufferedBytes: options.maxBufferedBytes };

  const protocol = makeServer<ConnectionParams, SocketState>({
    connectionInitWaitTimeout: options.connectionInitTimeoutMs,
    subscribe: createSharedEventSubscribe(schema, documents, options.counters),
    onConnect: async (ctx) => {
      const admission = sessions.beginAdmission();
      try {
        return await connect(ctx, admission);
      } finally {
        admission.end();
      }
    },
    onSubscribe: (ctx, _id, payload) => {
      if (tooManyOperations(ctx.extra, 0)) return [operationLimitError()]; // this one is already counted
      const prepared = documents.get(payload.query);
      if (!prepared.ok) return [...prepared.errors];
      return {
        schema,
        document: prepared.document,
        operationName: payload.operationName,
        variableValues: payload.variables,
        contextValue: createContext(services, ctx.extra.auth, {
          clientAddress: ctx.extra.clientAddress,
          connection: {
            authenticate: (token) => sessions.reauthenticate(ctx.extra, token),
            renewCredentials: (work) => sessions.renewCredentials(ctx.extra, work),
          },
        }),
      };
    },
    onError: (_ctx, _id, _payload, errors) => formatOperationErrors(errors, formatError),
    onNext: (ctx, _id, _payload, args, result) => {
      if (!result.errors) return undefined;
      // As on the grouped path: a subscription event the database could not render is not sent as an error the
      // stream then carries on past; the socket closes with a code clients retry, and they resume from their cursor.
      const subscription = getOperationAST(args.document, args.operationName)?.operation === 'subscription';
      if (subscription && result.errors.some((error) => isDatabaseUnavailable(error.originalError))) {
        ctx.extra.socket.close(DATABASE_UNAVAILABLE_CLOSE_CODE, DATABASE_UNAVAILABLE_CLOSE_REASON);
      }
      return formatResult(result, formatError);
    },
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
    if (!prepared.ok || !isDirectSubscription(getOperationAST(prepared.document, payload.operationName), roomStreamFields)) return false;
    if (tooManyOperations(state, 1)) {
      state.socket.send(stringifyMessage({ id, type: MessageType.Error, payload: formatOperationErrors([operationLimitError()], formatError) }));
      return true;
    }
    state.direct ??= new DirectSubscriptions(state.socket, deliveryDeps);
    void state.direct.start(id, prepared, payload, state.auth).catch((error: unknown) => failed(state.socket, error));
    return true;
  };

  const failed = (socket: WebSocket, error: unknown) => {
    log.error({ err: error }, 'internal error while handling a WebSocket message');
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  };

  // ws re-emits the HTTP server's errors (a port in use, say); startApp reports those from the server's own listen.
  wss.on('error', () => {});
  wss.on('connection', (socket, request) => {
    const state: SocketState = { socket, auth: ANONYMOUS, perSubscriberDelivery: false, clientAddress: options.clientAddressOf(request) };
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
      sessions.end(state);
      void closed(code, String(reason));
    });
  });
  function onSocketError(this: WebSocket, error: Error): void {
    // ws has already closed the socket with the matching code (e.g. 1009 for a frame over the size limit).
    log.debug({ err: error }, 'WebSocket protocol error');
    this.close(CloseCode.InternalServerError, 'Internal server error');
  }
  const stopKeepAlive = keepSocketsAlive(wss, options.keepAliveMs);
  let goodbye = { code: GOING_AWAY_CLOSE_CODE, reason: 'Going away' };

  return {
    drainPlugin: {
      async serverWillStart() {
        return {
          drainServer: async () => {
            stopKeepAlive();
            for (const socket of wss.clients) socket.close(goodbye.code, goodbye.reason);
            await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
          },
        };
      },
    },
    restarting: () => void (goodbye = { code: SERVICE_RESTART_CLOSE_CODE, reason: 'Service restart: reconnect and resume from your last cursor' }),
    socketCount: () => wss.clients.size,
    isConnected: (userId) => sessions.isConnected(userId),
    signedOut: (userId) => sessions.signedOut(userId),
    async revalidate(currentVersions) {
      const asked = sessions.versionedUsers();
      if (asked.length === 0) return [];
      return sessions.revalidate(await currentVersions(asked), asked);
    },
  };
}

/** The promise's value, or 'timed out' when it takes longer than `ms` (a slow identity provider, a stuck database). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timed out'>((resolve) => (timer = setTimeout(() => resolve('timed out'), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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
