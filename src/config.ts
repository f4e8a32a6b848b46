import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { ExternalIdentityOptions } from './auth/external-tokens.js';
import type { RateLimitSettings } from './domain/rate-limits.js';
import { booleanFlag, durationMs, durationSeconds, listenHost, rateRule } from './config-values.js';

const envSchema = z.object({
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65_535).default(4000),
  HOST: listenHost.optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_TTL: z
    .string()
    .default('24h')
    .transform((v, ctx) => {
      const seconds = durationSeconds(v);
      if (seconds === undefined || seconds < 60) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration of at least 60s, such as 3600, 15m, 24h or 7d' });
        return z.NEVER;
      }
      return seconds;
    }),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MESSAGE_MAX_LENGTH: z.coerce.number().int().min(1).max(100_000).default(4000),
  DATA_DIR: z.string().min(1).default('./.data'),
  MIGRATE_ON_START: booleanFlag.default(true),
  REPLAY_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  WS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  SEND_GROUP_COMMIT: booleanFlag.default(true),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v, ctx) => {
      const origins = v.split(',').map((origin) => origin.trim()).filter(Boolean);
      for (const origin of origins) {
        if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
          ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin such as https://app.example.com (or *)` });
          return z.NEVER;
        }
      }
      return origins;
    }),
  TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): boolean | number | string => (v === 'true' ? true : v === 'false' ? false : /^\d+$/.test(v) ? Number(v) : v)),
  HTTP_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)?$/i, 'must be a size such as 100kb, 1mb or 65536')
    .default('100kb'),
  WS_MAX_PAYLOAD: z.coerce.number().int().min(1024).default(65_536),
  WS_CONNECTION_INIT_TIMEOUT: z.coerce.number().int().min(100).default(3000),
  WS_CONNECT_TIMEOUT: z.coerce.number().int().min(100).default(5000),
  WS_KEEPALIVE: z.coerce.number().int().min(100).default(12_000),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: z.coerce.number().int().min(1).default(100),
  WS_MAX_SOCKETS_PER_USER: z.coerce.number().int().min(0).default(20),
  RATE_LIMITS: booleanFlag.default(true),
  RATE_LIMIT_SIGNIN: rateRule('10/15m'),
  RATE_LIMIT_SIGNIN_IP: rateRule('100/15m'),
  RATE_LIMIT_SEND: rateRule('20/10s'),
  RATE_LIMIT_SIGNUP: rateRule('10/1h'),
  RATE_LIMIT_CREATE_ROOM: rateRule('30/1h'),
  RATE_LIMIT_DIRECTORY: rateRule('60/1m'),
  RATE_LIMIT_SEARCH: rateRule('30/1m'),
  PRESENCE_OFFLINE_GRACE: durationMs('30s'),
  PRESENCE_THROTTLE: durationMs('2s'),
  INBOX_ACTIVITY_THROTTLE: durationMs('1s'),
  SEARCH_INDEX_DELAY: durationMs('200ms'),
  SEARCH_INDEX_INTERVAL: durationMs('5s').refine((ms) => ms >= 100, 'must be at least 100ms'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL').optional(),
  RATE_LIMIT_KEY_PREFIX: z.string().min(1).default('parley'),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  JWT_PUBLIC_KEY: z.string().includes('-----BEGIN PUBLIC KEY-----', { error: 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)' }).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_USERNAME_CLAIM: z.string().min(1).default('preferred_username'),
  JWT_ALGORITHMS: z
    .string()
    .default('RS256,ES256')
    .transform((v, ctx) => {
      const algorithms = v.split(',').map((a) => a.trim()).filter(Boolean);
      if (algorithms.length === 0 || algorithms.some((a) => !/^(RS|PS|ES)(256|384|512)$|^EdDSA$/.test(a))) {
        ctx.addIssue({ code: 'custom', message: 'must list asymmetric algorithms such as RS256,ES256 (HS256 is for Parley\'s own tokens)' });
        return z.NEVER;
      }
      return algorithms;
    }),
  NOTIFY_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  NOTIFY_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  NOTIFY_WEBHOOK_TIMEOUT: durationMs('10s'),
  NOTIFY_WEBHOOK_RETRY_DELAY: durationMs('2s'),
  DRAIN_DELAY: durationMs('5s'),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  PLAYGROUND: z.enum(['graphiql', 'sandbox', 'off'], { error: 'must be graphiql, sandbox or off' }).default('graphiql'),
  BUS: z.enum(['auto', 'postgres', 'redis', 'off'], { error: 'must be auto, postgres, redis or off' }).default('auto'),
  BUS_CHANNEL: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, 'must be a lower-case identifier of at most 41 characters, such as parley')
    .default('parley'),
  BUS_CHECK_INTERVAL: durationMs('30s').refine((ms) => ms >= 100, 'must be at least 100ms'),
  WORKERS: z
    .string()
    .default('1')
    .transform((v, ctx) => {
      if (v === 'auto') return os.availableParallelism();
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!(n >= 1 && n <= 256)) {
        ctx.addIssue({ code: 'custom', message: 'must be a number of worker processes from 1 to 256, or auto (one per core)' });
        return z.NEVER;
      }
      return n;
    }),
});

/** Parley's validated configuration, read once from the environment. */
export interface Config {
  /** TCP port for HTTP and WebSocket; 0 picks a free one. Default 4000. */
  port: number;
  /**
   * Address to listen on; undefined listens on every interface. Default 127.0.0.1 (this machine only) in development
   * and test; every interface in production.
   */
  host: string | undefined;
  /** How the logged URL names this server: `host`, or `localhost` when listening on every interface. */
  urlHost: string;
  /** External PostgreSQL; when absent an embedded PostgreSQL is started under `dataDir`. */
  databaseUrl: string | undefined;
  /** HS256 secret; required in production, generated and kept in `dataDir` otherwise. */
  jwtSecret: string | undefined;
  /** Token lifetime in seconds. Default 24 h. */
  jwtTtlSeconds: number;
  nodeEnv: 'development' | 'production' | 'test';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Longest message body after trimming, in characters. Default 4000. */
  messageMaxLength: number;
  /** Absolute directory for the embedded database and the development JWT secret. Default `./.data`. */
  dataDir: string;
  /** Run pending migrations at start. Default true. */
  migrateOnStart: boolean;
  /** Most events a resumed `roomEvents` subscription replays before it sends ResyncRequired. Default 1000. */
  replayLimit: number;
  /** A subscriber whose socket buffer passes this many bytes is closed (1013) to reconnect and resume. Default 1 MiB. */
  wsMaxBufferedBytes: number;
  /** Sends arriving while a store is in flight share the next transaction. Default true; false: one per message. */
  sendGroupCommit: boolean;
  /** Browser origins allowed cross-origin (CORS and WebSocket upgrades); `*` allows any. Default none. */
  corsOrigins: string[];
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (Express's `trust proxy`: `true`, a hop
   * count, or addresses/subnets such as `loopback, 10.0.0.0/8`). Default false: the TCP peer is the client.
   */
  trustProxy: boolean | number | string;
  /** Largest HTTP request body (express notation, e.g. `100kb`); larger gets 413. */
  httpBodyLimit: string;
  /** Largest WebSocket message in bytes; larger closes the socket with 1009. Default 64 KiB. */
  wsMaxPayload: number;
  /** Milliseconds a socket may take to send connection_init before it is closed with 4408. Default 3000. */
  wsConnectionInitTimeoutMs: number;
  /** Milliseconds connection_init may take to authenticate before the socket is closed with 4408. Default 5000. */
  wsConnectTimeoutMs: number;
  /** Ping interval in milliseconds; a socket that has not answered the previous ping is terminated. Default 12 s. */
  wsKeepAliveMs: number;
  /** Operations one socket may have open at once. Default 100. */
  wsMaxSubscriptionsPerSocket: number;
  /** Sockets one user may have open at once; 0 means no cap. Default 20. */
  wsMaxSocketsPerUser: number;
  /** Abuse limits; null when RATE_LIMITS is off. */
  rateLimits: RateLimitSettings | null;
  /** How long a user's last socket may be gone before the user is OFFLINE (a reconnect within it changes nothing). Default 30 s. */
  presenceOfflineGraceMs: number;
  /** Presence changes of one user are sent at most once per this many milliseconds, latest state winning. Default 2 s. */
  presenceThrottleMs: number;
  /** An inbox gets at most one RoomActivity per room per this many milliseconds, latest state winning. Default 1 s. */
  inboxActivityThrottleMs: number;
  /** How long after a send the search indexer indexes new messages (README "Search"). Default 200 ms. */
  searchIndexDelayMs: number;
  /** The search indexer also runs this often, for messages other processes stored. Default 5 s. */
  searchIndexIntervalMs: number;
  /** Redis shared by every process for rate limits; unset: each process keeps its own in memory. */
  redisUrl: string | undefined;
  /** Prefix of the rate limits' keys in Redis. Default `parley`. */
  rateLimitKeyPrefix: string;
  /** The app's own identity provider, whose tokens are accepted too; unset: only Parley's own tokens. */
  externalIdentity: ExternalIdentityOptions | undefined;
  /** Offline notifications POSTed to NOTIFY_WEBHOOK_URL; unset: none are sent. */
  notifyWebhook: NotifyWebhookSettings | undefined;
  /**
   * After SIGTERM, how long /readyz answers 503 (for the load balancer to notice) before the server stops accepting,
   * finishes in-flight requests and closes sockets with 1012. Default 5 s.
   */
  drainDelayMs: number;
  /** Bearer token GET /metrics requires; unset: /metrics is open (keep it off the public network). */
  metricsToken: string | undefined;
  /**
   * The page a browser gets at GET /graphql: GraphiQL bundled with the server (default), Apollo Sandbox loaded
   * from Apollo's CDN (`sandbox`), or none (`off`). Always `off` in production, whatever PLAYGROUND says.
   */
  playground: Playground;
  /**
   * How processes serving one database hear of each other's events (README "Running several processes"): `postgres`
   * (LISTEN/NOTIFY on a dedicated connection), `redis` (pub/sub on REDIS_URL) or `off` (this process alone).
   * BUS=auto, the default, is `postgres` whenever DATABASE_URL is set or WORKERS > 1, `off` otherwise.
   */
  bus: 'postgres' | 'redis' | 'off';
  /** The NOTIFY channel, or the prefix of the Redis channels, the bus uses. Default `parley`. */
  busChannel: string;
  /** How often every followed stream is compared with its latest seq, healing hints the bus lost. Default 30 s. */
  busCheckIntervalMs: number;
  /** Worker processes serving the port (node:cluster); 1 runs no primary. Default 1; `auto` = one per core. */
  workers: number;
}

/** Which GraphQL playground GET /graphql serves to a browser (PLAYGROUND). */
export type Playground = 'graphiql' | 'sandbox' | 'off';

/** The webhook that hears of mentions and DMs for users with no open socket (README, "Offline notifications"). */
export interface NotifyWebhookSettings {
  url: string;
  /** HMAC-SHA256 key of the signature header; at least 16 characters. */
  secret: string;
  /** How long one attempt may wait for the receiver's answer. Default 10 s. */
  timeoutMs: number;
  /** Wait before the first retry; doubles for each further one (with jitter). Default 2 s. */
  retryDelayMs: number;
}

/** Raised for an invalid environment; its message names every offending variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and validates the environment.
 * @throws ConfigError naming each variable with a bad value, or JWT_SECRET when it is missing in production.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable counts as unset, so `PORT= npm start` means the default.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.JWT_SECRET) {
    throw new ConfigError('Invalid configuration:\n  JWT_SECRET: is required when NODE_ENV=production');
  }
  if (e.NOTIFY_WEBHOOK_URL && !e.NOTIFY_WEBHOOK_SECRET) {
    throw new ConfigError('Invalid configuration:\n  NOTIFY_WEBHOOK_SECRET: is required with NOTIFY_WEBHOOK_URL');
  }
  if (e.WORKERS > 1 && e.BUS === 'off') {
    throw new ConfigError('Invalid configuration:\n  BUS: cannot be off with WORKERS > 1 (the workers would not hear each other\'s events)');
  }
  if (e.BUS === 'redis' && !e.REDIS_URL) {
    throw new ConfigError('Invalid configuration:\n  REDIS_URL: is required with BUS=redis');
  }
  if ((e.JWT_JWKS_URL || e.JWT_PUBLIC_KEY) && (!e.JWT_ISSUER || !e.JWT_AUDIENCE)) {
    throw new ConfigError('Invalid configuration:\n  JWT_ISSUER and JWT_AUDIENCE: are required with JWT_JWKS_URL or JWT_PUBLIC_KEY');
  }
  const host = e.HOST ?? (e.NODE_ENV === 'production' ? undefined : '127.0.0.1');
  return {
    port: e.PORT,
    host,
    urlHost: host === undefined || host === '0.0.0.0' || host === '::' ? 'localhost' : net.isIPv6(host) ? `[${host}]` : host,
    databaseUrl: e.DATABASE_URL,
    jwtSecret: e.JWT_SECRET,
    jwtTtlSeconds: e.JWT_TTL,
    nodeEnv: e.NODE_ENV,
    logLevel: e.LOG_LEVEL,
    messageMaxLength: e.MESSAGE_MAX_LENGTH,
    dataDir: path.resolve(e.DATA_DIR),
    migrateOnStart: e.MIGRATE_ON_START,
    replayLimit: e.REPLAY_LIMIT,
    wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    sendGroupCommit: e.SEND_GROUP_COMMIT,
    corsOrigins: e.CORS_ORIGINS,
    trustProxy: e.TRUST_PROXY,
    httpBodyLimit: e.HTTP_BODY_LIMIT,
    wsMaxPayload: e.WS_MAX_PAYLOAD,
    wsConnectionInitTimeoutMs: e.WS_CONNECTION_INIT_TIMEOUT,
    wsConnectTimeoutMs: e.WS_CONNECT_TIMEOUT,
    wsKeepAliveMs: e.WS_KEEPALIVE,
    wsMaxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
    wsMaxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER,
    rateLimits: e.RATE_LIMITS
      ? {
          signInFailures: e.RATE_LIMIT_SIGNIN,
          signInPerAddress: e.RATE_LIMIT_SIGNIN_IP,
          send: e.RATE_LIMIT_SEND,
          signUp: e.RATE_LIMIT_SIGNUP,
          createRoom: e.RATE_LIMIT_CREATE_ROOM,
          directory: e.RATE_LIMIT_DIRECTORY,
          search: e.RATE_LIMIT_SEARCH,
        }
      : null,
    presenceOfflineGraceMs: e.PRESENCE_OFFLINE_GRACE,
    presenceThrottleMs: e.PRESENCE_THROTTLE,
    inboxActivityThrottleMs: e.INBOX_ACTIVITY_THROTTLE,
    searchIndexDelayMs: e.SEARCH_INDEX_DELAY,
    searchIndexIntervalMs: e.SEARCH_INDEX_INTERVAL,
    redisUrl: e.REDIS_URL,
    rateLimitKeyPrefix: e.RATE_LIMIT_KEY_PREFIX,
    externalIdentity:
      e.JWT_JWKS_URL || e.JWT_PUBLIC_KEY
        ? {
            jwksUrl: e.JWT_JWKS_URL,
            publicKeyPem: e.JWT_PUBLIC_KEY,
            issuer: e.JWT_ISSUER!,
            audience: e.JWT_AUDIENCE!,
            usernameClaim: e.JWT_USERNAME_CLAIM,
            algorithms: e.JWT_ALGORITHMS,
          }
        : undefined,
    notifyWebhook: e.NOTIFY_WEBHOOK_URL
      ? { url: e.NOTIFY_WEBHOOK_URL, secret: e.NOTIFY_WEBHOOK_SECRET!, timeoutMs: e.NOTIFY_WEBHOOK_TIMEOUT, retryDelayMs: e.NOTIFY_WEBHOOK_RETRY_DELAY }
      : undefined,
    drainDelayMs: e.DRAIN_DELAY,
    metricsToken: e.METRICS_TOKEN,
    playground: e.NODE_ENV === 'production' ? 'off' : e.PLAYGROUND,
    bus: e.BUS !== 'auto' ? e.BUS : e.DATABASE_URL || e.WORKERS > 1 ? 'postgres' : 'off',
    busChannel: e.BUS_CHANNEL,
    busCheckIntervalMs: e.BUS_CHECK_INTERVAL,
    workers: e.WORKERS,
  };
}

/** For entry points: the configuration, or a message on stderr naming the bad variables and exit code 1. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
