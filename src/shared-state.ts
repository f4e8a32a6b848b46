import { Redis } from 'ioredis';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import type { Config } from './config.js';
import type { PresenceChange } from './domain/presence.js';
import { RateLimits, sweepExpiredRateLimits } from './domain/rate-limits.js';
import type { RoomEvent } from './domain/room-events.js';
import { streamLogs } from './domain/stream-logs.js';
import type { UserEvent } from './domain/user-events.js';
import type { Logger } from './logger.js';
import { busTransportFor } from './realtime/bus/bus-transport-for.js';
import { CrossProcessStreamEventBus } from './realtime/bus/cross-process-stream-bus.js';
import { PostgresPresenceState } from './realtime/postgres-presence-state.js';
import { InProcessPresenceStore, type PresenceStore } from './realtime/presence-store.js';
import { RedisPresenceState } from './realtime/redis-presence-state.js';
import { SharedPresenceStore } from './realtime/shared-presence-store.js';
import type { StreamEventBus } from './realtime/stream-event-bus.js';

// What differs between one process alone and several serving one database (BUS, REDIS_URL): the bus between them,
// presence and the socket cap, and the rate limits. The composition root (app.ts) asks for each.

/** Work to run when the app stops, in reverse order of registration. */
type Cleanups = (() => Promise<void>)[];

/**
 * The abuse limits: off; in Redis (REDIS_URL) with a connection closed on stop; in PostgreSQL when processes share
 * the database without Redis (BUS on); in this process's memory otherwise.
 */
export function createRateLimits(config: Config, dataSource: DataSource, log: Logger, cleanups: Cleanups): RateLimits {
  if (!config.rateLimits) return RateLimits.off();
  if (config.redisUrl) {
    const redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    redis.on('error', (error: Error) => log.warn({ err: error }, 'Redis unavailable: rate limits fall back to this process'));
    cleanups.push(async () => void redis.disconnect());
    return RateLimits.create(config.rateLimits, { redis, keyPrefix: config.rateLimitKeyPrefix });
  }
  if (config.bus === 'off') return RateLimits.create(config.rateLimits);
  const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  const stopSweeping = sweepExpiredRateLimits(pool);
  cleanups.push(async () => stopSweeping());
  return RateLimits.create(config.rateLimits, { postgres: pool, keyPrefix: config.rateLimitKeyPrefix });
}

/**
 * Presence and the per-user socket cap: in this process when BUS is off (one process, no extra cost); otherwise
 * shared by every process of the deployment, in Redis when REDIS_URL is set (keys under `<BUS_CHANNEL>:presence:`),
 * else in PostgreSQL, with changes sent over `bus`. The shared state is left by PresenceService.dispose.
 */
export async function createPresenceStore(
  config: Config,
  dataSource: DataSource,
  bus: StreamEventBus<PresenceChange>,
  log: Logger,
  cleanups: Cleanups,
): Promise<PresenceStore> {
  if (config.bus === 'off') return new InProcessPresenceStore();
  const options = { offlineGraceMs: config.presenceOfflineGraceMs };
  if (config.redisUrl) {
    const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', (error: Error) => log.warn({ err: error }, 'Redis unavailable: presence and the socket cap let sockets in uncounted'));
    cleanups.push(async () => void redis.disconnect());
    await redis.connect();
    return SharedPresenceStore.start(await RedisPresenceState.register(redis, { keyPrefix: config.busChannel }), bus, options, log);
  }
  const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
  return SharedPresenceStore.start(await PostgresPresenceState.register(pool), bus, options, log);
}

/** What travels on the bus: room and user events, and the ephemeral control events (sign-outs). */
export type BusEvent = RoomEvent | UserEvent;

/**
 * The bus between the processes of a deployment (BUS): hints over PostgreSQL LISTEN/NOTIFY or Redis pub/sub, healed
 * from the logs. A stream more than REPLAY_LIMIT behind gets the resync its subscribers know from resuming.
 */
export function crossProcessBus(config: Config, databaseUrl: string, dataSource: DataSource, log: Logger, onCheck: () => Promise<void>): CrossProcessStreamEventBus<BusEvent> {
  const busLog = log.child({ component: 'bus' });
  const bus: CrossProcessStreamEventBus<BusEvent> = new CrossProcessStreamEventBus<BusEvent>({
    transport: busTransportFor({ bus: config.bus as 'postgres' | 'redis', channel: config.busChannel, databaseUrl, redisUrl: config.redisUrl }, busLog, (dropped) => {
      bus.counters.sendFailures += dropped;
    }),
    logs: streamLogs(dataSource),
    log: busLog,
    checkIntervalMs: config.busCheckIntervalMs,
    onCheck,
    replayLimit: config.replayLimit,
    tooFarBehind: (stream, lastSeq) => {
      const [kind, id] = stream.split(':') as [string, string];
      const at = new Date();
      if (kind === 'room') return { kind: 'RESYNC_REQUIRED', roomId: id, at, lastSeq, skipTo: lastSeq } as unknown as BusEvent;
      if (kind === 'user') return { kind: 'INBOX_RESYNC_REQUIRED', userId: id, at, lastSeq, skipTo: lastSeq } as unknown as BusEvent;
      return undefined;
    },
  });
  return bus;
}
