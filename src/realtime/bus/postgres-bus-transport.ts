import pg from 'pg';
import type { Logger } from '../../logger.js';
import type { BusTransport, BusTransportHandlers } from './bus-transport.js';

/** Most hints one NOTIFY statement carries; more wait for the next one. */
const BATCH = 500;
/** Sends kept while the sending connection is down; beyond it the oldest are dropped (receivers heal). */
const MAX_QUEUED = 20_000;
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 2000;
/** How often the listening connection is asked `SELECT 1` (each query may take 5 s). */
const HEARTBEAT_MS = 10_000;

/**
 * The bus over PostgreSQL LISTEN/NOTIFY, on two dedicated connections (never a transaction pooler such as PgBouncer
 * in transaction mode, which drops LISTEN): one listens, one sends. Sends go out after the writers' commits, batched
 * into one `pg_notify` statement per task (and while one is in flight), so NOTIFY's commit-time lock is taken by this
 * connection, once per batch, never inside a writer's transaction. A payload is at most 8000 bytes (PostgreSQL's
 * limit). Both connections reconnect by themselves with backoff; a batch that failed is sent again once the sending
 * connection is back (receivers drop what they already have).
 */
export class PostgresBusTransport implements BusTransport {
  readonly kind = 'postgres';
  readonly maxMessageBytes = 7900;
  private handlers: BusTransportHandlers | undefined;
  /** The listening connection, while it is up. */
  private listener: pg.Client | undefined;
  private reconnecting = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private sender: pg.Client | undefined;
  private readonly queue: string[] = [];
  private sending = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly log: Logger,
    private readonly onSendFailure: (dropped: number) => void = () => {},
  ) {}

  async start(handlers: BusTransportHandlers): Promise<void> {
    this.handlers = handlers;
    this.adopt(await this.connectListener()); // the first start reports an unreachable database; nothing retries then
    this.heartbeat = setInterval(() => void this.probe(), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  send(_key: string, text: string): void {
    if (this.stopped) return;
    this.queue.push(text);
    if (this.queue.length > MAX_QUEUED) {
      const dropped = this.queue.splice(0, this.queue.length - MAX_QUEUED).length;
      this.onSendFailure(dropped);
    }
    if (!this.sending) {
      this.sending = true;
      // After the current task's other sends (a group commit publishes many at once), before the work it queued.
      queueMicrotask(() => void this.flush());
    }
  }

  listening(): boolean {
    return this.listener !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    const clients = [this.listener, this.sender].filter((c): c is pg.Client => c !== undefined);
    this.listener = this.sender = undefined;
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }

  /** A listening connection: connected and LISTENing, or a failure (the client ended). */
  private async connectListener(): Promise<pg.Client> {
    const client = new pg.Client({ ...this.clientOptions(), application_name: 'parley-bus-listen' });
    client.on('error', () => this.lost(client)); // ignored unless it is the adopted listener
    client.on('end', () => this.lost(client));
    client.on('notification', (notification) => {
      if (notification.channel !== this.channel || notification.payload === undefined || this.listener !== client) return;
      this.handlers?.message(notification.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  }

  private adopt(client: pg.Client): void {
    this.listener = client;
  }

  /** The adopted listener failed (an error, its end, a heartbeat unanswered): one reconnection loop takes over. */
  private lost(client: pg.Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    client.end().catch(() => {});
    if (this.stopped) return;
    this.log.warn('bus: the listening connection to PostgreSQL was lost; reconnecting');
    void this.reconnect();
  }

  /** Tries to listen again, one attempt at a time with backoff, until it does or the transport stops. */
  private async reconnect(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          const client = await this.connectListener();
          if (this.stopped) {
            await client.end().catch(() => {});
            return;
          }
          this.adopt(client);
          this.log.info('bus: listening on PostgreSQL again; re-reading followed streams');
          this.handlers?.reconnected();
          return;
        } catch (error) {
          if (this.stopped) return;
          this.log.warn({ err: error, attempt }, 'bus: cannot listen on PostgreSQL yet; retrying');
          await new Promise<void>((resolve) => this.later(backoff(attempt), resolve));
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /** A connection that died without a word (a half-open TCP path) answers no query: treat it as lost. */
  private async probe(): Promise<void> {
    const client = this.listener;
    if (!client) return;
    try {
      await client.query('SELECT 1');
    } catch {
      this.lost(client);
    }
  }

  private clientOptions(): pg.ClientConfig {
    return {
      connectionString: this.url,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      connectionTimeoutMillis: 5000,
      query_timeout: 5000,
    };
  }

  /** Sends queued messages, a batch per statement, until the queue is empty; on failure reconnects and goes on. */
  private async flush(attempt = 0): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.slice(0, BATCH);
      try {
        const sender = await this.connectedSender();
        // unnest yields the payloads in array order, and NOTIFYs of one transaction are delivered in the order made.
        await sender.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [this.channel, batch]);
        this.queue.splice(0, batch.length);
        attempt = 0;
      } catch (error) {
        this.sender?.end().catch(() => {});
        this.sender = undefined;
        if (this.stopped) return;
        this.log.warn({ err: error, queued: this.queue.length }, 'bus: sending to PostgreSQL failed; retrying');
        this.later(backoff(attempt), () => void this.flush(attempt + 1));
        return;
      }
    }
    this.sending = false;
  }

  private async connectedSender(): Promise<pg.Client> {
    if (this.sender) return this.sender;
    const client = new pg.Client({ ...this.clientOptions(), application_name: 'parley-bus-send' });
    client.on('error', () => {
      if (this.sender === client) this.sender = undefined; // the next flush reconnects
    });
    await client.connect();
    this.sender = client;
    return client;
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      run();
    }, ms);
    this.timers.add(timer);
  }
}

function backoff(attempt: number): number {
  return Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
}
