import { readFile } from 'node:fs/promises';
import path from 'node:path';
import express from 'express';
import helmet from 'helmet';

/** The URL path of the chat app's hashed scripts and styles (web/build.ts builds for it). */
export const APP_ASSETS_PATH = '/app-assets';

/** The page's client-side routes: each answers with the app's index.html, and the app shows the room it names. */
const APP_ROUTES = ['/', '/rooms/*room'];

/** dist/web/app, written by `npm run build:web` (see playground.ts for why the path depends on where this runs). */
const APP_DIR = path.basename(path.join(import.meta.dirname, '../..')) === 'dist'
  ? path.join(import.meta.dirname, '../../web/app')
  : path.join(import.meta.dirname, '../../dist/web/app');

const NOT_BUILT = `The Parley chat app has not been built yet.

Run \`npm run build:web\` (npm start and npm test build it first), then reload this page.
The GraphQL API is at /graphql.
`;

/**
 * Serves the chat app (web/app) at `/` and its client routes, in development and production alike, and its
 * bundle under /app-assets (hashed names, cached for a year). The page loads nothing from another host, so its
 * policy allows scripts, styles, images and connections from this server only, plus its WebSocket origin.
 * Without a built bundle the page is a 503 saying how to build it; the API runs on.
 */
export function chatApp(): express.Router {
  const router = express.Router();
  router.use(APP_ASSETS_PATH, express.static(APP_DIR, { index: false, immutable: true, maxAge: '1y' }));
  router.get(APP_ROUTES, (req, res, next) => {
    appPolicy(req, res, (error?: unknown) => {
      if (error) return next(error);
      // Read per request: a rebuilt bundle shows on reload without a restart (the file is a few hundred bytes).
      readFile(path.join(APP_DIR, 'index.html'), 'utf8').then(
        (html) => void res.type('html').set('cache-control', 'no-cache').send(html),
        () => void res.status(503).type('text').set('cache-control', 'no-store').send(NOT_BUILT),
      );
    });
  });
  return router;
}

/** A Host header that can stand in a policy (a name or address and an optional port), else none. */
const PLAIN_HOST = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * The app's policy: nothing inline, nothing from elsewhere. The WebSocket's origin is named explicitly (ws: and
 * wss:, for a TLS-terminating proxy). No upgrade-insecure-requests: over plain HTTP it would turn ws: into wss:.
 */
const appPolicy = helmet.contentSecurityPolicy({
  useDefaults: true,
  directives: {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'font-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'connect-src': ["'self'", (req) => webSocketOrigins((req as express.Request).headers.host)],
    'upgrade-insecure-requests': null,
  },
});

function webSocketOrigins(host: string | undefined): string {
  if (!host || !PLAIN_HOST.test(host)) return '';
  return `ws://${host} wss://${host}`;
}
