import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Presence, PresenceStatus } from '../domain/presence.js';
import type { ManualStatus } from './presence-store.js';
import { DEFAULT_PRESENCE_LEASE_MS, type SharedPresence, type SharedPresenceState } from './shared-presence-store.js';

// Keys under `<prefix>:presence:`: `user:<id>` a hash per user (sockets: over live processes; s:<process>: that
// process's; goneAt, grace: the process timing the grace period; manual, manualSince; shown, shownAt), `processes`
// a sorted set of process ids scored by the end of their lease (Redis's clock), `process:<id>:users` the users a
// process has counted, `grace` a sorted set of users with no socket left, scored by goneAt. Every step is one Lua
// script, so it is atomic; the scripts name keys they compute, so this needs one Redis (not a Redis Cluster).

const NOW = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** Takes away the counts of process `pid` (a lapsed or leaving process); users left with none are gone at `at`. */
const TAKE_AWAY = `
local function take_away(prefix, pid, at)
  local users_key = prefix .. 'process:' .. pid .. ':users'
  for _, u in ipairs(redis.call('SMEMBERS', users_key)) do
    local hash = prefix .. 'user:' .. u
    local n = tonumber(redis.call('HGET', hash, 's:' .. pid) or '0')
    redis.call('HDEL', hash, 's:' .. pid)
    if n ~= 0 then
      local total = tonumber(redis.call('HGET', hash, 'sockets') or '0')
      local left = math.max(total - n, 0)
      redis.call('HSET', hash, 'sockets', left)
      if total > 0 and left == 0 then
        redis.call('HSET', hash, 'goneAt', at)
        redis.call('HDEL', hash, 'grace')
        redis.call('ZADD', prefix .. 'grace', at, u)
      end
    end
  end
  redis.call('DEL', users_key)
end`;

const SCRIPTS = {
  // KEYS: user hash, process users, grace; ARGV: pid, max, user id
  parleyPresenceConnect: {
    numberOfKeys: 3,
    lua: `
local total = tonumber(redis.call('HGET', KEYS[1], 'sockets') or '0')
local max = tonumber(ARGV[2])
if max > 0 and total >= max then return false end
redis.call('HSET', KEYS[1], 'sockets', total + 1)
if redis.call('HINCRBY', KEYS[1], 's:' .. ARGV[1], 1) == 0 then redis.call('HDEL', KEYS[1], 's:' .. ARGV[1]) end
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[3])
return redis.call('HGETALL', KEYS[1])`,
  },
  // KEYS: user hash, process users, grace; ARGV: pid, goneAt ms, user id. The per-process count may go below zero
  // after this process lost its lease: it then holds what changed since, for the beat that registers again.
  parleyPresenceDisconnect: {
    numberOfKeys: 3,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local total = tonumber(redis.call('HGET', KEYS[1], 'sockets') or '0')
if redis.call('HINCRBY', KEYS[1], 's:' .. ARGV[1], -1) == 0 then redis.call('HDEL', KEYS[1], 's:' .. ARGV[1]) end
redis.call('SADD', KEYS[2], ARGV[3])
if total <= 1 then
  redis.call('HSET', KEYS[1], 'sockets', 0, 'goneAt', ARGV[2], 'grace', ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
else
  redis.call('HSET', KEYS[1], 'sockets', total - 1)
end
return redis.call('HGETALL', KEYS[1])`,
  },
  // KEYS: user hash; ARGV: status ('' clears), since ms
  parleyPresenceManual: {
    numberOfKeys: 1,
    lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if ARGV[1] == '' then redis.call('HDEL', KEYS[1], 'manual', 'manualSince')
else redis.call('HSET', KEYS[1], 'manual', ARGV[1], 'manualSince', ARGV[2]) end
return redis.call('HGETALL', KEYS[1])`,
  },
  // KEYS: processes, grace; ARGV: prefix, pid, lease ms, then user id and open sockets pairs. Renews the lease
  // (registers again after a lapse: the counts kept since then hold what changed since, as the totals do) and makes
  // each named user's count for this process the one given, moving the total by the difference.
  parleyPresenceBeat: {
    numberOfKeys: 2,
    lua: `${NOW}
local prefix, pid = ARGV[1], ARGV[2]
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), pid)
local users_key = prefix .. 'process:' .. pid .. ':users'
for i = 4, #ARGV, 2 do
  local u, n = ARGV[i], tonumber(ARGV[i + 1])
  local hash = prefix .. 'user:' .. u
  local had = tonumber(redis.call('HGET', hash, 's:' .. pid) or '0')
  if n ~= had then
    local total = tonumber(redis.call('HGET', hash, 'sockets') or '0')
    local left = math.max(total + n - had, 0)
    redis.call('HSET', hash, 'sockets', left)
    if total > 0 and left == 0 then
      redis.call('HSET', hash, 'goneAt', now)
      redis.call('HDEL', hash, 'grace')
      redis.call('ZADD', KEYS[2], now, u)
    end
  end
  if n ~= 0 then
    redis.call('HSET', hash, 's:' .. pid, n)
    redis.call('SADD', users_key, u)
  else
    redis.call('HDEL', hash, 's:' .. pid)
    redis.call('SREM', users_key, u)
  end
end
return 1`,
  },
  // KEYS: processes, grace; ARGV: prefix, pid, grace ms
  parleyPresenceSweep: {
    numberOfKeys: 2,
    lua: `${NOW}
${TAKE_AWAY}
local prefix, pid = ARGV[1], ARGV[2]
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)) do
  local expired = redis.call('ZSCORE', KEYS[1], dead)
  redis.call('ZREM', KEYS[1], dead)
  take_away(prefix, dead, expired)
end
local claimed = {}
for _, u in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, 1000)) do
  local hash = prefix .. 'user:' .. u
  local f = redis.call('HMGET', hash, 'sockets', 'shown', 'grace')
  if tonumber(f[1] or '0') > 0 or (f[2] ~= 'ONLINE' and f[2] ~= 'AWAY') then
    redis.call('ZREM', KEYS[2], u)
  else
    local lease = f[3] and redis.call('ZSCORE', KEYS[1], f[3])
    if not lease or tonumber(lease) < now then
      redis.call('HSET', hash, 'grace', pid)
      table.insert(claimed, u)
    end
  end
end
return claimed`,
  },
  // KEYS: processes, grace; ARGV: prefix, pid
  parleyPresenceClose: {
    numberOfKeys: 2,
    lua: `${NOW}
${TAKE_AWAY}
local prefix, pid = ARGV[1], ARGV[2]
redis.call('ZREM', KEYS[1], pid)
take_away(prefix, pid, now)
for _, u in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local hash = prefix .. 'user:' .. u
  if redis.call('HGET', hash, 'grace') == pid then redis.call('HDEL', hash, 'grace') end
end
return 1`,
  },
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptClient = Redis & { [K in ScriptName]: (...args: (string | number)[]) => Promise<unknown> };

/**
 * SharedPresenceState in Redis (REDIS_URL): the same model as PostgresPresenceState (a count per user and per
 * process, a lease per process on Redis's clock, the grace period's timer owner), each step one Lua script.
 */
export class RedisPresenceState implements SharedPresenceState {
  readonly processId = randomUUID();
  private readonly prefix: string;
  private readonly redis: ScriptClient;

  private constructor(redis: Redis, keyPrefix: string, private readonly leaseMs: number) {
    this.prefix = `${keyPrefix}:presence:`;
    for (const [name, script] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, script);
    }
    this.redis = redis as ScriptClient;
  }

  /** Registers a new process (its lease `leaseMs` long, renewed by `beat`); keys start with `<keyPrefix>:presence:`. */
  static async register(redis: Redis, options: { keyPrefix: string; leaseMs?: number }): Promise<RedisPresenceState> {
    const state = new RedisPresenceState(redis, options.keyPrefix, options.leaseMs ?? DEFAULT_PRESENCE_LEASE_MS);
    await state.beat(new Map());
    return state;
  }

  async connect(userId: string, maxSockets: number): Promise<SharedPresence | null> {
    const fields = await this.redis.parleyPresenceConnect(this.userKey(userId), this.usersKey(), `${this.prefix}grace`, this.processId, maxSockets, userId);
    return fields ? presenceOf(fields as string[]) : null;
  }

  async disconnect(userId: string, at: Date): Promise<SharedPresence> {
    const fields = await this.redis.parleyPresenceDisconnect(this.userKey(userId), this.usersKey(), `${this.prefix}grace`, this.processId, at.getTime(), userId);
    if (!fields) throw new Error(`presence: ${userId} disconnected without a record`);
    return presenceOf(fields as string[]);
  }

  async setManual(userId: string, manual: ManualStatus | null): Promise<SharedPresence | undefined> {
    const fields = await this.redis.parleyPresenceManual(this.userKey(userId), manual?.status ?? '', manual?.since.getTime() ?? 0);
    return fields ? presenceOf(fields as string[]) : undefined;
  }

  async read(userIds: readonly string[]): Promise<Map<string, SharedPresence>> {
    const found = new Map<string, SharedPresence>();
    if (userIds.length === 0) return found;
    const pipeline = this.redis.pipeline();
    for (const id of userIds) pipeline.hgetall(this.userKey(id));
    const results = (await pipeline.exec()) ?? [];
    results.forEach(([error, hash], index) => {
      if (error) throw error;
      const fields = hash as Record<string, string>;
      if (Object.keys(fields).length > 0) found.set(userIds[index]!, presenceOf(Object.entries(fields).flat()));
    });
    return found;
  }

  async storeShown(userId: string, shown: Presence): Promise<void> {
    await this.redis.hset(this.userKey(userId), 'shown', shown.status, 'shownAt', shown.lastSeenAt?.getTime() ?? '');
  }

  async beat(localSockets: ReadonlyMap<string, number>): Promise<void> {
    const pairs = [...localSockets].flat();
    await this.redis.parleyPresenceBeat(`${this.prefix}processes`, `${this.prefix}grace`, this.prefix, this.processId, this.leaseMs, ...pairs);
  }

  async sweep(graceMs: number): Promise<string[]> {
    return (await this.redis.parleyPresenceSweep(`${this.prefix}processes`, `${this.prefix}grace`, this.prefix, this.processId, graceMs)) as string[];
  }

  async close(): Promise<void> {
    await this.redis.parleyPresenceClose(`${this.prefix}processes`, `${this.prefix}grace`, this.prefix, this.processId);
  }

  private userKey(userId: string): string {
    return `${this.prefix}user:${userId}`;
  }

  private usersKey(): string {
    return `${this.prefix}process:${this.processId}:users`;
  }
}

/** A user's hash, as HGETALL's flat list of fields and values. */
function presenceOf(flat: string[]): SharedPresence {
  const hash = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) hash.set(flat[i]!, flat[i + 1]!);
  const time = (field: string) => {
    const value = hash.get(field);
    return value ? new Date(Number(value)) : null;
  };
  const manual = hash.get('manual');
  const shown = hash.get('shown');
  return {
    sockets: Number(hash.get('sockets') ?? 0),
    goneAt: time('goneAt'),
    manual: manual ? { status: manual as ManualStatus['status'], since: time('manualSince')! } : null,
    shown: shown ? { status: shown as PresenceStatus, lastSeenAt: time('shownAt') } : null,
  };
}
