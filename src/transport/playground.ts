import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import express from 'express';
import helmet, { type HelmetOptions } from 'helmet';
import type { Playground } from '../config.js';

/** The URL path of the bundled playground's scripts, styles and workers (web/build.ts builds for it). */
export const PLAYGROUND_ASSETS_PATH = '/playground-assets';

/**
 * dist/web/playground, written by `npm run build:web`: from src/transport (tsx) two levels up and into dist; from
 * dist/src/transport (the built server) two levels up is dist itself.
 */
const ASSETS_DIR = path.basename(path.join(import.meta.dirname, '../..')) === 'dist'
  ? path.join(import.meta.dirname, '../../web/playground')
  : path.join(import.meta.dirname, '../../dist/web/playground');

const NOT_BUILT = `The GraphiQL playground has not been built yet.

Run \`npm run build:web\` (npm start and npm test build it first), then reload this page.
Or set PLAYGROUND=sandbox for Apollo Sandbox (loaded from Apollo's CDN), or PLAYGROUND=off.
`;

/**
 * Serves GraphiQL at GET /graphql to a browser (a request that prefers text/html, as Apollo decides for its own
 * landing page; every other request goes on to the GraphQL endpoint) and its bundle under /playground-assets.
 * The page loads nothing from another host, so it runs under an enforced policy: scripts, workers and styles from
 * this server only, and connections to this server over HTTP and WebSocket. Without a built bundle the page is a
 * 503 saying how to build it; the server runs on.
 */
export function graphiqlPlayground(): express.Router {
  const router = express.Router();
  router.use(PLAYGROUND_ASSETS_PATH, express.static(ASSETS_DIR, { index: false, immutable: true, maxAge: '1y' }));
  router.get('/graphql', (req, res, next) => {
    if (!prefersHtml(req)) return next();
    graphiqlPolicy(req, res, (error?: unknown) => {
      if (error) return next(error);
      // Read on every request (development only): a rebuilt bundle shows on reload without a restart.
      readFile(path.join(ASSETS_DIR, 'index.html'), 'utf8').then(
        (html) => void res.type('html').set('cache-control', 'no-store').send(html),
        () => void res.status(503).type('text').set('cache-control', 'no-store').send(NOT_BUILT),
      );
    });
  });
  return router;
}

/** Apollo's landing page for the configured playground: its embedded Sandbox, or none (GraphiQL is ours). */
export function apolloLandingPage<T extends object>(playground: Playground): ApolloServerPlugin<T> {
  return playground === 'sandbox' ? ApolloServerPluginLandingPageLocalDefault({ embed: true }) : ApolloServerPluginLandingPageDisabled();
}

/**
 * The policy of every response. With Apollo Sandbox (PLAYGROUND=sandbox) the page loads its script, styles and
 * frame from Apollo's CDN, so its policy is sent report-only: a change on Apollo's side shows in the browser
 * console instead of breaking the playground. Otherwise helmet's strict default, which a JSON API lives with
 * (the GraphiQL page sets its own).
 */
export function contentSecurityPolicy(playground: Playground): HelmetOptions['contentSecurityPolicy'] {
  if (playground !== 'sandbox') return true;
  return {
    useDefaults: true,
    reportOnly: true,
    directives: {
      'script-src': ["'self'", "'unsafe-inline'", 'https://embeddable-sandbox.cdn.apollographql.com'],
      'style-src': ["'self'", "'unsafe-inline'", 'https://fonts.googleapis.com'],
      'font-src': ["'self'", 'https://fonts.gstatic.com'],
      'img-src': ["'self'", 'data:', 'https://apollo-server-landing-page.cdn.apollographql.com'],
      'frame-src': ["'self'", 'https://sandbox.embed.apollographql.com'],
      'connect-src': ["'self'", 'ws:', 'wss:'],
      'manifest-src': ["'self'", 'https://apollo-server-landing-page.cdn.apollographql.com'],
    },
  };
}

/** A Host header that can stand in a policy (a name or address and an optional port), else none. */
const PLAIN_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * GraphiQL's page policy. Monaco adds its stylesheets as <style> elements at run time, hence 'unsafe-inline' for
 * styles (never for scripts); its fonts are data: URLs inside graphiql's CSS. The WebSocket's origin is named
 * explicitly (ws: and wss:, for a TLS-terminating proxy) rather than relying on browsers matching 'self' to it.
 * No upgrade-insecure-requests: the development server speaks plain HTTP, and the upgrade would turn ws: into wss:.
 */
const graphiqlPolicy = helmet.contentSecurityPolicy({
  useDefaults: true,
  directives: {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'worker-src': ["'self'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'font-src': ["'self'", 'data:'],
    'img-src': ["'self'", 'data:'],
    'connect-src': ["'self'", (req) => webSocketOrigins((req as express.Request).headers.host)],
    'upgrade-insecure-requests': null,
  },
});

function webSocketOrigins(host: string | undefined): string {
  if (!host || !PLAIN_HOST.test(host)) return '';
  return `ws://${host} wss://${host}`;
}

function prefersHtml(req: express.Request): boolean {
  return req.accepts(['application/json', 'application/graphql-response+json', 'multipart/mixed', 'text/html']) === 'text/html';
}
