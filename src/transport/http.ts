import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Authenticator } from '../auth/authenticator.js';
import { tokenFromAuthorization } from '../auth/tokens.js';
import type { Services } from '../domain/services.js';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import type { ErrorFormatter } from '../graphql/errors.js';
import { extraValidationRules } from '../graphql/validation-rules.js';

export interface HttpTransportOptions {
  schema: GraphQLSchema;
  services: Services;
  authenticator: Authenticator;
  formatError: ErrorFormatter;
  production: boolean;
  /** Largest accepted request body. Default 100 kB. */
  bodyLimit?: string;
  /** More Apollo plugins (the WebSocket server's drain hook). */
  plugins?: ApolloServerPlugin<GraphQLContext>[];
}

export interface HttpTransport {
  httpServer: http.Server;
  apollo: ApolloServer<GraphQLContext>;
  /** Mounts the GraphQL endpoint; call after the WebSocket server has registered its Apollo plugin. */
  start(): Promise<void>;
}

/**
 * GraphQL over HTTP at `/graphql` (POST, and GET for queries), authenticated per request by the
 * `Authorization: Bearer <token>` header. The returned http.Server also carries the WebSocket upgrade.
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const plugins: ApolloServerPlugin<GraphQLContext>[] = [
    ApolloServerPluginDrainHttpServer({ httpServer }),
    options.production ? ApolloServerPluginLandingPageDisabled() : ApolloServerPluginLandingPageLocalDefault({ embed: true }),
    ...(options.plugins ?? []),
  ];
  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema,
    plugins,
    // Introspection is governed by our own rule, shared with the WebSocket; Apollo's would add a second error.
    introspection: true,
    validationRules: extraValidationRules(options.production),
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) => options.formatError(formatted, error),
    // main.ts owns SIGINT/SIGTERM: Apollo's own handlers would race it.
    stopOnTerminationSignals: false,
  });

  return {
    httpServer,
    apollo,
    async start() {
      await apollo.start();
      app.use(
        '/graphql',
        express.json({ limit: options.bodyLimit ?? '100kb' }),
        expressMiddleware(apollo, {
          context: async ({ req }) => {
            const auth = await options.authenticator.authenticate(tokenFromAuthorization(req.headers.authorization));
            return createContext(options.services, auth);
          },
        }),
      );
    },
  };
}
