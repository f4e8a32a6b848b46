import { Redis } from 'ioredis';
import type { Logger } from '../../logger.js';
import type { BusTransport, BusTransportHandlers } from './bus-transport.js';

/** Channels the streams are spread over: with sharded pub/sub each can live on another node of a Redis Cluster. */
const SHARDS = 16;
/** Messages kept while the sending connection is down; beyond it the oldest are dropped (receivers heal). */
const MAX_UNSENT = 20_000;

/**
 * The bus over Redis pub/sub (BUS=redis): sharded SPUBLISH/SSUBSCRIBE when the server has them (Redis 7+), plain
 * PUBLISH/SUBSCRIBE otherwise. A stream's messages always go to the same one of 16 channels, so they stay in order.
 * One connection sends and one listens; ioredis reconnects both and resubscribes. Messages that could not be sent
 * are kept (up to 20,000) and sent once the sending connection is back, so a receiver that reconnected first and has
 * checked already still hears of them; receivers re-read every followed stream when their listening connection is
 * back (`reconnected`).
 */
export class RedisBusTransport implements BusTransport {
  readonly kind = 'redis';
  readonly maxMessageBytes = 512 * 1024;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private sharded = false;
  /** Messages whose send failed, waiting for the sending connection to be ready again. */
  private readonly unsent: [channel: string, text: string][] = [];
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
    try {
      await this.connect(handlers);
    } catch (error) {
      await this.stop(); // nothing keeps reconnecting after a failed start
      throw error;
    }
  }

  private async connect(handlers: BusTransportHandlers): Promise<void> {
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
    // Sends that failed while the sending connection was down go out once it is back, in their order.
    this.publisher.on('ready', () => this.resend());
    // ioredis sends its resubscriptions as it becomes ready again; the check that follows reads the logs for what was
    // missed meanwhile (a hint sent between the two is also read: the check's read comes after).
    this.subscriber.on('ready', () => {
      if (this.stopped || !this.everReady) return;
      this.log.info('bus: listening on Redis again; re-reading followed streams');
      handlers.reconnected();
    });
  }

  send(key: string, text: string): void {
    if (this.stopped) return;
    const channel = this.channelOf(key);
    if (this.unsent.length > 0) {
      this.keep(channel, text); // behind the ones waiting, so a stream's hints stay in order
      return;
    }
    this.publish(channel, text);
  }

  private publish(channel: string, text: string): void {
    const sent = this.sharded ? this.publisher.spublish(channel, text) : this.publisher.publish(channel, text);
    sent.catch(() => this.keep(channel, text));
  }

  /** Keeps a message that could not be sent, for `resend`; beyond MAX_UNSENT the oldest are dropped (receivers heal). */
  private keep(channel: string, text: string): void {
    if (this.stopped) return;
    this.unsent.push([channel, text]);
    if (this.unsent.length > MAX_UNSENT) this.onSendFailure(this.unsent.splice(0, this.unsent.length - MAX_UNSENT).length);
  }

  private resend(): void {
    const waiting = this.unsent.splice(0);
    for (const [channel, text] of waiting) this.publish(channel, text);
  }

  listening(): boolean {
    return this.subscriber.status === 'ready';
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsent.length = 0;
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
