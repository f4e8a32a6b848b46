import type http from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, parse, specifiedRules, validate, type DocumentNode, type GraphQLSchema } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { ANONYMOUS, type Authentication, type Authenticator } from '../auth/authenticator.js';
import { tokenFromAuthorization } from '../auth/tokens.js';
import type { Services } from '../domain/services.js';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import type { ErrorFormatter } from '../graphql/errors.js';
import { extraValidationRules } from '../graphql/validation-rules.js';

export { CloseCode };

export interface WsTransportOptions {
  httpServer: http.Server;
  schema: GraphQLSchema;
  services: Services;
  authenticator: Authenticator;
  formatError: ErrorFormatter;
  production: boolean;
  /** Path of the endpoint, shared with HTTP. Default `/graphql`. */
  path?: string;
}

/** What each socket remembers: who authenticated on it, once, at connection_init. */
interface SocketState extends Record<PropertyKey, unknown> {
  auth: Authentication;
}

export interface WsTransport {
  /** Closes every socket with 1001 (going away) and stops accepting new ones. */
  dispose(): Promise<void>;
  /** Apollo plugin that disposes this server when Apollo drains. */
  drainPlugin: ApolloServerPlugin<GraphQLContext>;
  /** Number of open sockets. */
  socketCount(): number;
}

/**
 * graphql-ws (`graphql-transport-ws`) on the HTTP server's port and path. The token in the `connection_init`
 * payload (`{ authorization: "Bearer …" }` or Hasura-style `{ headers: { Authorization: "Bearer …" } }`) is
 * verified once; a bad or expired one closes the socket with 4403 (CloseCode.Forbidden), none makes it anonymous.
 * graphql-ws parses, validates and executes on its own, so the HTTP side's validation rules and error formatting
 * are applied here explicitly.
 */
export function createWsTransport(options: WsTransportOptions): WsTransport {
  const wss = new WebSocketServer({ server: options.httpServer, path: options.path ?? '/graphql' });
  const rules = [...specifiedRules, ...extraValidationRules(options.production)];
  const { formatError } = options;

  const server = useServer<Record<string, unknown> | undefined, SocketState>(
    {
      isProd: options.production,
      onConnect: async (ctx) => {
        const token = tokenFromConnectionParams(ctx.connectionParams);
        const auth = await options.authenticator.authenticate(token);
        if (auth.kind === 'refused') return false; // graphql-ws closes with CloseCode.Forbidden (4403)
        ctx.extra.auth = auth;
        return true;
      },
      onSubscribe: (ctx, _id, payload) => {
        let document: DocumentNode;
        try {
          document = parse(payload.query);
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          return [new GraphQLError(error.message, { source: error.source, positions: error.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
        }
        const errors = validate(options.schema, document, rules);
        if (errors.length > 0) return errors;
        return {
          schema: options.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: createContext(options.services, ctx.extra.auth ?? ANONYMOUS),
        };
      },
      onError: (_ctx, _id, _payload, errors) =>
        errors.map((error) => formatError(error.toJSON(), error, 'GRAPHQL_VALIDATION_FAILED')),
      onNext: (_ctx, _id, _payload, _args, result) => {
        if (!result.errors) return undefined;
        // Errors without a resolver behind them are variable coercion errors, as on HTTP.
        return { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error, 'BAD_USER_INPUT')) };
      },
    },
    wss,
  );

  return {
    dispose: async () => server.dispose(),
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
