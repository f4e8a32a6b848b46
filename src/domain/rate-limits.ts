import type { Redis } from 'ioredis';
import type { Pool } from 'pg';
import {
  BurstyRateLimiter,
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
  type IRateLimiterOptions,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { RateLimitedError, UnauthenticatedError } from './errors.js';

/** `points` per `seconds`. */
export interface RateLimitRule {
  points: number;
  seconds: number;
}

export interface RateLimitSettings {
  /** Consecutive failed sign-ins of one username from one address before that pair is locked for `seconds`. */
  signInFailures: RateLimitRule;
  /** Sign-in attempts from one address. */
  signInPerAddress: RateLimitRule;
  /** Messages one user may send (with a burst of a quarter more, refilled over three periods). */
  send: RateLimitRule;
  /** Accounts created from one address. */
  signUp: RateLimitRule;
  /** Rooms created from one address. */
  createRoom: RateLimitRule;
  /** Directory reads (`publicRooms`, `users`) by one user: a scraper loops over these. */
  directory: RateLimitRule;
  /** Message searches (`searchMessages`) by one user: each one reads an index over all the user's rooms. */
  search: RateLimitRule;
}

/** Where the counts are kept: this process's memory (default), Redis, or PostgreSQL's `rate_limits` table. */
export interface RateLimitStore {
  redis?: Redis;
  postgres?: Pool;
  /** Start of every key (Redis key or `rate_limits.key`). Default `parley`. */
  keyPrefix?: string;
}

/** The table RateLimiterPostgres uses (created by migration CrossProcessState, not by the library). */
const POSTGRES_TABLE = 'rate_limits';

/**
 * Abuse limits (rate-limiter-flexible): in memory, or in Redis or PostgreSQL so that every process of a deployment
 * shares them. An outage of the shared store falls back to per-process memory limits instead of failing requests.
 * Each check throws RateLimitedError with the seconds until it would pass.
 */
export class RateLimits {
  private constructor(
    private readonly limiters: {
      signInFailures: RateLimiterAbstract;
      signInPerAddress: RateLimiterAbstract;
      send: RateLimiterAbstract | BurstyRateLimiter;
      signUp: RateLimiterAbstract;
      createRoom: RateLimiterAbstract;
      directory: RateLimiterAbstract;
      search: RateLimiterAbstract;
    } | null,
  ) {}

  /** No limits at all (RATE_LIMITS=off: load tests and benchmarks). */
  static off(): RateLimits {
    return new RateLimits(null);
  }

  static create(settings: RateLimitSettings, store: RateLimitStore = {}): RateLimits {
    const prefix = store.keyPrefix ?? 'parley';
    const limiter = (name: string, rule: RateLimitRule, extra: Partial<IRateLimiterOptions> = {}): RateLimiterAbstract => {
      const options = { keyPrefix: `${prefix}:${name}`, points: rule.points, duration: rule.seconds, ...extra };
      if (store.redis) return new RateLimiterRedis({ ...options, storeClient: store.redis, insuranceLimiter: new RateLimiterMemory(options) });
      if (store.postgres) {
        // Expiry times are the processes' clocks (epoch ms): keep the machines of a deployment in time sync.
        return new RateLimiterPostgres({
          ...options,
          storeClient: store.postgres,
          storeType: 'pool',
          tableName: POSTGRES_TABLE,
          tableCreated: true,
          clearExpiredByTimeout: false, // its timer outlives a stopped server; see sweepExpiredRateLimits
          insuranceLimiter: new RateLimiterMemory(options),
        });
      }
      return new RateLimiterMemory(options);
    };
    const { send } = settings;
    return new RateLimits({
      signInFailures: limiter('signin-failures', settings.signInFailures, { blockDuration: settings.signInFailures.seconds }),
      signInPerAddress: limiter('signin', settings.signInPerAddress),
      send: new BurstyRateLimiter(
        limiter('send', send),
        limiter('send-burst', { points: Math.max(1, Math.ceil(send.points / 4)), seconds: send.seconds * 3 }),
      ),
      signUp: limiter('signup', settings.signUp),
      createRoom: limiter('create-room', settings.createRoom),
      directory: limiter('directory', settings.directory),
      search: limiter('search', settings.search),
    });
  }

  /**
   * Runs a sign-in attempt under the limits, before any password is hashed: the address's attempts, and the
   * username + address pair's consecutive failures (a success clears them).
   */
  async signIn<T>(username: string, address: string, attempt: () => Promise<T>): Promise<T> {
    if (!this.limiters) return attempt();
    const { signInFailures, signInPerAddress } = this.limiters;
    const pair = `${username.toLowerCase()}|${address}`;
    const failures = await signInFailures.get(pair);
    if (failures && failures.remainingPoints <= 0 && failures.msBeforeNext > 0) throw limited(failures);
    await consume(signInPerAddress, address);
    try {
      const result = await attempt();
      await signInFailures.delete(pair);
      return result;
    } catch (error) {
      if (error instanceof UnauthenticatedError) await signInFailures.consume(pair).catch(() => undefined); // the lock applies from the next attempt
      throw error;
    }
  }

  async send(userId: string): Promise<void> {
    if (this.limiters) await consume(this.limiters.send, userId);
  }

  async signUp(address: string): Promise<void> {
    if (this.limiters) await consume(this.limiters.signUp, address);
  }

  async createRoom(address: string): Promise<void> {
    if (this.limiters) await consume(this.limiters.createRoom, address);
  }

  async directory(userId: string): Promise<void> {
    if (this.limiters) await consume(this.limiters.directory, userId);
  }

  async search(userId: string): Promise<void> {
    if (this.limiters) await consume(this.limiters.search, userId);
  }
}

async function consume(limiter: RateLimiterAbstract | BurstyRateLimiter, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw limited(rejection);
    throw rejection;
  }
}

function limited(result: RateLimiterRes): RateLimitedError {
  return new RateLimitedError(Math.max(1, Math.ceil(result.msBeforeNext / 1000)));
}

/**
 * Deletes the `rate_limits` rows that expired over an hour ago, every `intervalMs` (default 5 minutes), as
 * RateLimiterPostgres would on its own timer; returns the function that stops it. A failure waits for the next turn.
 */
export function sweepExpiredRateLimits(pool: Pool, intervalMs = 300_000): () => void {
  const timer = setInterval(() => {
    pool.query(`DELETE FROM ${POSTGRES_TABLE} WHERE expire < $1`, [Date.now() - 3_600_000]).catch(() => {});
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
