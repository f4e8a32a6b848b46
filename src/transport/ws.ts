import type http from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { specifiedRules, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { ANONYMOUS, type Authentication, type Authenticator } from '../auth/authenticator.js';
import { tokenFromAuthorization } from '../auth/tokens.js';
import type { Services } from '../domain/services.js';
import type { FanOutCounters } from '../realtime/fan-out-counters.js';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import { DocumentCache, operationType } from '../graphql/document-cache.js';
import type { ErrorFormatter } from '../graphql/errors.js';
import { formatResult } from '../graphql/format-result.js';
import { extraValidationRules } from '../graphql/validation-rules.js';
import { createDirectDelivery } from './ws-direct-delivery.js';

export interface WsTransportOptions {
  httpServer: http.Server;
  schema: GraphQLSchema;
  services: Services;
  authenticator: Authenticator;
  formatError: ErrorFormatter;
  production: boolean;
  counters: FanOutCounters;
  /** A subscriber whose socket buffer passes this many bytes is dropped (WS_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
  /** Path of the endpoint, shared with HTTP. Default `/graphql`. */
  path?: string;
}

/** What each socket remembers: who authenticated on it, once, at connection_init. */
interface SocketState extends Record<PropertyKey, unknown> {
  auth: Authentication;
  /** Diagnostics (not in production): deliver with plain per-subscriber execution instead of the grouped path. */
  perSubscriberDelivery: boolean;
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
 * graphql-ws parses, validates and executes on its own, so the HTTP side's validation rules and error formatting
 * are applied here explicitly. Subscriptions to rooms are delivered by the grouped fan-out, which writes frames
 * to the socket itself.
 */
export function createWsTransport(options: WsTransportOptions): WsTransport {
  const wss = new WebSocketServer({ server: options.httpServer, path: options.path ?? '/graphql', perMessageDeflate: false });
  const documents = new DocumentCache(options.schema, [...specifiedRules, ...extraValidationRules(options.production)]);
  const { formatError, schema, services } = options;

  const server = useServer<Record<string, unknown> | undefined, SocketState>(
    {
      isProd: options.production,
      onConnect: async (ctx) => {
        const token = tokenFromConnectionParams(ctx.connectionParams);
        const auth = await options.authenticator.authenticate(token);
        if (auth.kind === 'refused') return false; // graphql-ws closes with CloseCode.Forbidden (4403)
        ctx.extra.auth = auth;
        ctx.extra.perSubscriberDelivery = !options.production && ctx.connectionParams?.['parleyDelivery'] === 'per-subscriber';
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const prepared = documents.get(payload.query);
        if (!prepared.ok) return [...prepared.errors];
        const auth = ctx.extra.auth ?? ANONYMOUS;
        const direct =
          operationType(prepared.document, payload.operationName) === 'subscription' && !ctx.extra.perSubscriberDelivery
            ? createDirectDelivery(
                {
                  socket: ctx.extra.socket,
                  operationId: id,
                  documentId: prepared.id,
                  document: prepared.document,
                  operationName: payload.operationName,
                  variables: payload.variables,
                  viewerDependent: prepared.viewerDependent,
                  auth,
                },
                { schema, services, formatError, counters: options.counters, maxBufferedBytes: options.maxBufferedBytes },
              )
            : undefined;
        return {
          schema,
          document: prepared.document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: createContext(services, auth, direct),
        };
      },
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((error) => formatError(error.toJSON(), error, 'GRAPHQL_VALIDATION_FAILED')),
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? formatResult(result, formatError) : undefined),
    },
    wss,
  );

  return {
    drainPlugin: {
      async serverWillStart() {
        return { drainServer: async () => server.dispose() };
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
