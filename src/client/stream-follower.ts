import { backoffDelay, pause, type BackoffOptions } from './backoff.js';
import type { Connection } from './connection.js';
import { ParleyConnectionError, ParleyGraphQLError } from './errors.js';
import type { SocketSession } from './socket-session.js';

/** What every event of a followed stream has: persisted events carry `seq` and `cursor`, ephemeral ones neither. */
export interface StreamEvent {
  __typename: string;
  seq?: number | null;
  cursor?: string | null;
}

/** A followed stream: stop it, or read the cursor of the last event handed to `onEvent` (to persist and resume). */
export interface StreamHandle {
  /** Ends the stream; no handler is called afterwards. */
  unsubscribe(): void;
  /** The cursor of the last persisted event delivered (or of the start point): pass it as `after` to resume later. */
  readonly cursor: string | null;
  /**
   * Resolves once the start point is fixed (at once with `after`; otherwise when the current cursor has been read):
   * every event committed after that reaches `onEvent`. Never rejects (a failed start goes to `onError`).
   */
  readonly ready: Promise<void>;
}

export interface StreamHandlers<TEvent, TResync> {
  /** Every persisted event once, in seq order; ephemeral events as they come. Awaited before the next event. */
  onEvent(event: TEvent): void | Promise<void>;
  /** The server skipped events (too far behind): refetch, then the stream continues. Awaited before the next event. */
  onResync?(resync: TResync): void | Promise<void>;
  /**
   * The stream ended for good (FORBIDDEN when the viewer left or was removed, NOT_FOUND, BAD_USER_INPUT), or a
   * handler threw. Transient failures (drops, SERVICE_UNAVAILABLE) are retried silently.
   */
  onError?(error: unknown): void;
}

/** How one kind of stream is read: its subscription, its start point and its special events. */
export interface StreamDefinition<TEvent extends StreamEvent, TResync> {
  query: string;
  variables(after: string): Record<string, unknown>;
  /** The event in a `next` payload's data. */
  event(data: Record<string, unknown>): TEvent;
  /** Where to start when no `after` is given: read before subscribing, so nothing committed after it is missed. */
  start(): Promise<{ cursor: string; lastSeq: number | null }>;
  /** The resync notice to hand to `onResync` (the stream continues after `lastSeq`), or undefined. */
  resync(event: TEvent): (TResync & { lastSeq: number; cursor: string }) | undefined;
}

/**
 * Follows one resumable stream across sockets: on every new socket it subscribes `after` its own last cursor
 * (never the original variables), drops events at or below the last seq it accepted, and restarts from its cursor
 * when a seq would skip one (so a gap is refilled from the log instead of delivered out of order).
 */
export class StreamFollower<TEvent extends StreamEvent, TResync> implements StreamHandle {
  private resumeCursor: string | null;
  private lastSeq: number | null = null;
  private delivered: string | null;
  private active = true;
  private stopOperation: (() => void) | undefined;
  private retries = 0;
  private delivery: Promise<void> = Promise.resolve();
  private readonly offSession: () => void;
  readonly ready: Promise<void>;
  private markReady!: () => void;

  constructor(
    private readonly connection: Connection,
    private readonly definition: StreamDefinition<TEvent, TResync>,
    private readonly handlers: StreamHandlers<TEvent, TResync>,
    private readonly backoff: BackoffOptions,
    after?: string | null,
  ) {
    this.resumeCursor = this.delivered = after ?? null;
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    if (this.resumeCursor !== null) this.markReady();
    this.offSession = connection.onSession((session) => void this.attach(session));
  }

  get cursor(): string | null {
    return this.delivered;
  }

  unsubscribe(): void {
    this.active = false;
    this.offSession();
    this.stopOperation?.();
    this.stopOperation = undefined;
  }

  private async attach(session: SocketSession): Promise<void> {
    this.stopOperation?.();
    this.stopOperation = undefined;
    if (this.resumeCursor === null) {
      try {
        const start = await this.definition.start();
        if (this.resumeCursor === null) {
          this.resumeCursor = this.delivered = start.cursor;
          this.lastSeq = start.lastSeq;
          this.markReady();
        }
      } catch (error) {
        return this.failed(session, error);
      }
    }
    if (!this.active || !session.connected) return;
    let live = true; // this operation's results count until it is replaced or fails
    const stop = session.subscribe(
      { query: this.definition.query, variables: this.definition.variables(this.resumeCursor) },
      {
        next: (result) => {
          if (!live) return;
          if (result.errors?.length) return fail(new ParleyGraphQLError(result.errors));
          if (result.data) this.receive(this.definition.event(result.data), fail);
        },
        error: (errors) => live && fail(new ParleyGraphQLError(errors)),
        complete: () => live && fail(new ParleyConnectionError('the server completed the stream')),
      },
    );
    const fail = (error: unknown) => {
      live = false;
      stop();
      if (this.stopOperation === cancel) this.stopOperation = undefined;
      this.failed(session, error);
    };
    const cancel = () => {
      live = false;
      stop();
    };
    this.stopOperation = cancel;
  }

  private receive(event: TEvent, fail: (error: unknown) => void): void {
    const resync = this.definition.resync(event);
    if (resync) {
      this.lastSeq = resync.lastSeq;
      this.resumeCursor = resync.cursor;
      return this.deliver(async () => {
        await this.handlers.onResync?.(resync);
        this.delivered = resync.cursor;
      });
    }
    if (event.seq === null || event.seq === undefined || !event.cursor) {
      return this.deliver(() => this.handlers.onEvent(event));
    }
    if (this.lastSeq !== null && event.seq <= this.lastSeq) return; // seen before this reconnect
    if (this.lastSeq !== null && event.seq > this.lastSeq + 1) {
      return fail(new ParleyConnectionError(`seq ${event.seq} after ${this.lastSeq}: resuming from the cursor`));
    }
    this.retries = 0;
    this.lastSeq = event.seq;
    const cursor = (this.resumeCursor = event.cursor);
    this.deliver(() => {
      this.delivered = cursor; // read inside onEvent, the handle's cursor is this event's
      return this.handlers.onEvent(event);
    });
  }

  /** Runs handlers one at a time in arrival order; a handler that throws is reported and the stream carries on. */
  private deliver(run: () => void | Promise<void>): void {
    this.delivery = this.delivery.then(async () => {
      if (!this.active) return;
      try {
        await run();
      } catch (error) {
        this.handlers.onError?.(error);
      }
    });
  }

  private failed(session: SocketSession, error: unknown): void {
    if (!this.active) return;
    if (error instanceof ParleyGraphQLError && error.permanent) {
      this.unsubscribe();
      this.handlers.onError?.(error);
      return;
    }
    // A drop is handled by the next socket's attach; anything else is retried on this socket after a backoff.
    void pause(backoffDelay(this.retries++, this.backoff), this.connection.closedSignal).then(() => {
      if (this.active && session.connected && this.stopOperation === undefined) void this.attach(session);
    });
  }
}
