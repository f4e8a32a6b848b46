import pg from 'pg';
import type { Logger } from '../../logger.js';
import type { BusTransport, BusTransportHandlers } from './bus-transport.js';

/** Most hints one NOTIFY statement carries; more wait for the next one. */
const BATCH = 500;
/** Sends kept while the sending connection is down; beyond it the oldest are dropped (receivers heal). */
const MAX_QUEUED = 20_000;
const RECONNECT_MIN_MS = 50;
const RECONNECT_MAX_MS = 2000;

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
  private listener: pg.Client | undefined;
  private listenerUp = false;
  private sender: pg.Client | undefined;
  private readonly queue: string[] = [];
  private sending = false;
  private stopped = false;
  private everListened = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly log: Logger,
    private readonly onSendFailure: (dropped: number) => void = () => {},
  ) {}

  async start(handlers: BusTransportHandlers): Promise<void> {
    this.handlers = handlers;
    await this.listen();
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
    return this.listenerUp;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    const clients = [this.listener, this.sender].filter((c): c is pg.Client => c !== undefined);
    this.listener = this.sender = undefined;
    this.listenerUp = false;
    await Promise.all(clients.map((client) => client.end().catch(() => {})));
  }

  /** Connects the listening connection and LISTENs; on any failure, tries again with backoff. */
  private async listen(attempt = 0): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, application_name: 'parley-bus-listen' });
    let lost = false;
    const onLost = (error?: Error) => {
      if (lost) return;
      lost = true;
      if (this.listener === client) {
        this.listener = undefined;
        this.listenerUp = false;
      }
      client.end().catch(() => {});
      if (this.stopped) return;
      this.log.warn({ err: error }, 'bus: the listening connection to PostgreSQL was lost; reconnecting');
      this.later(0, () => void this.listen(1));
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    client.on('notification', (notification) => {
      if (notification.channel === this.channel && notification.payload !== undefined) this.handlers?.message(notification.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      lost = true;
      client.end().catch(() => {});
      if (this.stopped) return;
      if (attempt === 0 && !this.everListened) throw error; // the first start reports an unreachable database
      this.log.warn({ err: error, attempt }, 'bus: cannot listen on PostgreSQL yet; retrying');
      this.later(backoff(attempt), () => void this.listen(attempt + 1));
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
    this.listenerUp = true;
    const again = this.everListened;
    this.everListened = true;
    if (again) {
      this.log.info('bus: listening on PostgreSQL again; re-reading followed streams');
      this.handlers?.reconnected();
    }
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
    const client = new pg.Client({ connectionString: this.url, keepAlive: true, application_name: 'parley-bus-send' });
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
