import type { Logger } from '../../logger.js';
import type { BusTransport } from './bus-transport.js';
import { PostgresBusTransport } from './postgres-bus-transport.js';
import { RedisBusTransport } from './redis-bus-transport.js';

export interface BusSettings {
  bus: 'postgres' | 'redis';
  /** The NOTIFY channel, or the Redis channels' prefix. */
  channel: string;
  databaseUrl: string;
  redisUrl: string | undefined;
}

/** The transport BUS names: LISTEN/NOTIFY on the database, or pub/sub on REDIS_URL. */
export function busTransportFor(settings: BusSettings, log: Logger, onSendFailure: (dropped: number) => void): BusTransport {
  if (settings.bus === 'redis') {
    if (!settings.redisUrl) throw new Error('BUS=redis needs REDIS_URL');
    return new RedisBusTransport(settings.redisUrl, settings.channel, log, onSendFailure);
  }
  return new PostgresBusTransport(settings.databaseUrl, settings.channel, log, onSendFailure);
}
