import express from 'express';

/** Why the process should not get traffic now, or undefined when it may. */
export type Readiness = () => Promise<string | undefined>;

/**
 * `GET /healthz` (200 while the process runs) and `GET /readyz` (200 when `readiness` finds nothing wrong, else
 * 503 with `{ status: "unavailable", reason }`). Mounted before the API's middleware: no CSP, CORS or GraphQL
 * handling, no authentication, and nothing a load balancer polling every second would notice as cost.
 */
export function healthRoutes(readiness: Readiness): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.set('cache-control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const reason = await readiness();
    res.set('cache-control', 'no-store');
    if (reason === undefined) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'unavailable', reason });
  });
  return router;
}

/** The promise's outcome, or a rejection naming `what` when it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
