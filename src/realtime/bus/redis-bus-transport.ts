import { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { BusTransport, BusTransportHandlers } from './bus-transport.js';

/** Channels the streams are spread over: with sharded pub/sub each can live on another node of a Redis Cluster. */
const SHARDS = 16;

/**
 * The bus over Redis pub/sub (BUS=redis): sharded SPUBLISH/SSUBSCRIBE when the server has them (Redis 7+), plain
 * PUBLISH/SUBSCRIBE otherwise. A stream's messages always go to the same one of 16 channels, so they stay in order.
 * One connection sends and one listens; ioredis reconnects both and resubscribes. Messages sent while Redis is
 * unreachable are dropped, not queued: receivers re-read every followed stream when their listening connection is
 * back (`reconnected`).
 */
export class RedisBusTransport implements BusTransport {
  readonly kind = 'redis';
  readonly maxMessageBytes = 512 * 1024;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private sharded = false;
  private everReady = false;
  private stopped = false;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly onSendFailure: (dropped: number) => void = () => {},
  ) {
    const options = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (times: number) => Math.min(2000, 50 * 2 ** times) };
    this.publisher = new Redis(url, { ...options, connectionName: 'parley-bus-send' });
    this.subscriber = new Redis(url, { ...options, connectionName: 'parley-bus-listen' });
    this.publisher.on('error', (error: Error) => this.log.debug({ err: error }, 'bus: Redis (sending) error'));
    this.subscriber.on('error', (error: Error) => this.log.debug({ err: error }, 'bus: Redis (listening) error'));
  }

  async start(handlers: BusTransportHandlers): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    const info = await this.publisher.info('server');
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0);
    this.sharded = major >= 7;
    const deliver = (channel: string, text: string) => {
      if (channel.startsWith(`${this.prefix}:bus:`)) handlers.message(text);
    };
    this.subscriber.on(this.sharded ? 'smessage' : 'message', deliver);
    // One channel per call: in a Redis Cluster, channels of one SSUBSCRIBE must share a slot.
    for (const channel of this.channels()) {
      if (this.sharded) await this.subscriber.ssubscribe(channel);
      else await this.subscriber.subscribe(channel);
    }
    this.everReady = true;
    this.subscriber.on('close', () => {
      if (!this.stopped) this.log.warn('bus: the listening connection to Redis was lost; reconnecting');
    });
    // ioredis resubscribes before it emits 'ready' again.
    this.subscriber.on('ready', () => {
      if (this.stopped || !this.everReady) return;
      this.log.info('bus: listening on Redis again; re-reading followed streams');
      handlers.reconnected();
    });
  }

  send(key: string, text: string): void {
    if (this.stopped) return;
    const channel = this.channelOf(key);
    const sent = this.sharded ? this.publisher.spublish(channel, text) : this.publisher.publish(channel, text);
    sent.catch(() => this.onSendFailure(1));
  }

  listening(): boolean {
    return this.subscriber.status === 'ready';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  private channels(): string[] {
    return Array.from({ length: SHARDS }, (_, shard) => `${this.prefix}:bus:{${shard}}`);
  }

  private channelOf(key: string): string {
    let hash = 0;
    for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) | 0;
    return `${this.prefix}:bus:{${(hash >>> 0) % SHARDS}}`;
  }
}
