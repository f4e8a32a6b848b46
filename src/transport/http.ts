import http from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import type { GraphQLSchema } from 'graphql';
import type { Authenticator } from '../auth/authenticator.js';
import type { Playground } from '../config.js';
import { tokenFromAuthorization } from '../auth/tokens.js';
import type { Services } from '../domain/services.js';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import type { ErrorFormatter } from '../graphql/errors.js';
import { extraValidationRules, PARSE_OPTIONS } from '../graphql/validation-rules.js';
import type { ClientAddressOf } from './client-address.js';
import type { OriginPolicy } from './origin-policy.js';
import { chatApp } from './chat-app.js';
import { apolloLandingPage, contentSecurityPolicy, graphiqlPlayground } from './playground.js';

export interface HttpTransportOptions {
  schema: GraphQLSchema;
  services: Services;
  authenticator: Authenticator;
  formatError: ErrorFormatter;
  production: boolean;
  /** The page a browser gets at GET /graphql (PLAYGROUND; always `off` in production). */
  playground: Playground;
  /** Cross-origin browser access (CORS_ORIGINS). */
  origins: OriginPolicy;
  /** The client address of a request (TRUST_PROXY). */
  clientAddressOf: ClientAddressOf;
  /** Largest accepted request body (HTTP_BODY_LIMIT); larger gets 413. */
  bodyLimit: string;
  /**
   * Routes served ahead of everything else (health checks, metrics): no security headers, CORS or GraphQL
   * handling. Default none.
   */
  operationalRoutes?: express.Router[];
  /** Sees every GraphQL request (the latency histogram). Default none. */
  timeRequests?: express.RequestHandler;
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
 * `Authorization: Bearer <token>` header. Every response carries helmet's security headers; cross-origin
 * browsers are served only for CORS_ORIGINS; bodies over the limit get 413 and malformed JSON 400, as GraphQL
 * errors; Apollo refuses batched requests (400) and, through its CSRF prevention, simple requests without a
 * preflight. The returned http.Server also carries the WebSocket upgrade.
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const app = express();
  app.disable('x-powered-by');
  for (const routes of options.operationalRoutes ?? []) app.use(routes);
  app.use(helmet({ contentSecurityPolicy: contentSecurityPolicy(options.playground) }));
  app.use(cors({ origin: (origin, allow) => allow(null, origin !== undefined && options.origins.allowsCrossOrigin(origin)) }));
  if (options.playground === 'graphiql') app.use(graphiqlPlayground());
  app.use(chatApp());
  const httpServer = http.createServer(app);
  const plugins: ApolloServerPlugin<GraphQLContext>[] = [
    ApolloServerPluginDrainHttpServer({ httpServer }),
    apolloLandingPage<GraphQLContext>(options.playground),
    ...(options.plugins ?? []),
  ];
  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema,
    plugins,
    // Introspection is governed by our own rule, shared with the WebSocket; Apollo's would add a second error.
    introspection: true,
    validationRules: extraValidationRules(options.production),
    parseOptions: PARSE_OPTIONS,
    // No "Did you mean …?" in production: it would hand out the schema that introspection keeps back.
    hideSchemaDetailsFromClientErrors: options.production,
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
      if (options.timeRequests) app.use('/graphql', options.timeRequests);
      app.use(
        '/graphql',
        express.json({ limit: options.bodyLimit }),
        expressMiddleware(apollo, {
          context: async ({ req }) => {
            const auth = await options.authenticator.authenticate(tokenFromAuthorization(req.headers.authorization));
            return createContext(options.services, auth, { clientAddress: options.clientAddressOf(req) });
          },
        }),
      );
      app.use(requestErrorHandler);
    },
  };
}

/** A body the JSON parser refused (too large, malformed) as a GraphQL-shaped error with the parser's status. */
const requestErrorHandler: express.ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, next) => {
  if (res.headersSent || error.status === undefined || error.status >= 500) return next(error);
  const tooLarge = error.status === 413;
  res.status(error.status).json({
    errors: [
      {
        message: tooLarge ? 'Request body is larger than the limit' : 'Request body is not valid JSON',
        extensions: { code: tooLarge ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST' },
      },
    ],
  });
};
