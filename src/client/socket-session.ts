import type { GraphQLFormattedError } from 'graphql';
import { createClient, type Client, type FormattedExecutionResult, type SubscribePayload } from 'graphql-ws';
import { ParleyConnectionError } from './errors.js';

/** What the SDK needs of a WebSocket implementation: the browser's `WebSocket`, or `ws`'s default export in Node. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** The part of a WebSocket instance the SDK touches itself (graphql-ws uses the rest). */
export interface WebSocketLike {
  close(code?: number, reason?: string): void;
}

/** How a session's socket ended: its close code and reason (4499 "Terminated" when the SDK gave up on it). */
export interface SessionEnd {
  code: number;
  reason: string;
}

/** Receives one operation's results on a session. */
export interface SessionSink {
  next(result: FormattedExecutionResult<Record<string, unknown>, unknown>): void;
  /** The server ended the operation with an `error` message (validation, operation limits). */
  error(errors: readonly GraphQLFormattedError[]): void;
  /** The server completed the operation. */
  complete(): void;
}

export interface SocketSessionOptions {
  url: string;
  webSocketImpl: WebSocketConstructor;
  /** Sent as `{ authorization: 'Bearer <token>' }` in connection_init; none for an anonymous socket. */
  token: string | null;
  /** Ping interval in ms. */
  keepAliveMs: number;
  /** A ping unanswered this long (ms) means the connection is dead (a stalled network sends no close). */
  pongTimeoutMs: number;
  /** The socket must be acknowledged within this many ms. */
  connectTimeoutMs: number;
}

/**
 * One WebSocket, from opening to its end: a graphql-ws client that never reconnects by itself (the SDK's
 * connection decides, and re-subscribes streams with their own cursors). `ended` always settles, also for a socket
 * that stalls without a close event: an unanswered ping or a missing acknowledgement terminates it.
 */
export class SocketSession {
  /** Resolves when the socket is gone; nothing this session delivers after it counts. */
  readonly ended: Promise<SessionEnd>;
  /** Resolves true on connection_ack, false when the session ended before. */
  readonly acknowledged: Promise<boolean>;
  private alive = true;
  private isAcknowledged = false;
  private readonly client: Client;
  private rawSocket: WebSocketLike | undefined;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private finish!: (end: SessionEnd) => void;

  constructor(readonly options: SocketSessionOptions) {
    let acknowledge!: (ok: boolean) => void;
    this.acknowledged = new Promise((resolve) => (acknowledge = resolve));
    this.ended = new Promise((resolve) => (this.finish = resolve));
    void this.ended.then(() => acknowledge(false));
    const session = this;
    // Captures the raw socket, so a stalled one can be torn down even before it opens.
    const Tracked = class extends options.webSocketImpl {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        session.rawSocket = this;
      }
    };
    this.client = createClient({
      url: options.url,
      webSocketImpl: Tracked,
      lazy: false,
      retryAttempts: 0,
      keepAlive: options.keepAliveMs,
      connectionAckWaitTimeout: options.connectTimeoutMs,
      connectionParams: () => (options.token ? { authorization: `Bearer ${options.token}` } : {}),
      onNonLazyError: () => {},
      on: {
        connected: () => {
          this.isAcknowledged = true;
          acknowledge(true);
        },
        ping: (received) => {
          if (!received) this.after(options.pongTimeoutMs, () => this.terminate(), 'pong');
        },
        pong: (received) => {
          if (received) this.clearTimer('pong');
        },
        closed: (event) => {
          const { code, reason } = event as { code?: number; reason?: string };
          this.end({ code: code ?? 1006, reason: reason ?? '' });
        },
      },
    });
    this.after(options.connectTimeoutMs, () => this.isAcknowledged || this.terminate());
  }

  /** Whether the socket is acknowledged and has not ended. */
  get connected(): boolean {
    return this.alive && this.isAcknowledged;
  }

  /** Starts an operation; returns its cleanup (completes it on the server). Nothing is delivered after `ended`. */
  subscribe(payload: SubscribePayload, sink: SessionSink): () => void {
    if (!this.alive) return () => {};
    return this.client.subscribe<Record<string, unknown>>(payload, {
      next: (result) => this.alive && sink.next(result),
      // A close reaches every operation as an error too: `ended` reports that once, for the whole session.
      error: (error) => this.alive && Array.isArray(error) && sink.error(error as GraphQLFormattedError[]),
      complete: () => this.alive && sink.complete(),
    });
  }

  /**
   * Runs a query or mutation over the socket and returns its one result.
   * @throws ParleyConnectionError when the socket ends first (the operation may or may not have run).
   */
  execute(payload: SubscribePayload): Promise<FormattedExecutionResult<Record<string, unknown>, unknown>> {
    return new Promise((resolve, reject) => {
      if (!this.alive) return reject(new ParleyConnectionError('the socket is closed'));
      let result: FormattedExecutionResult<Record<string, unknown>, unknown> | undefined;
      void this.ended.then(({ code, reason }) => reject(new ParleyConnectionError(`the socket closed (${code} ${reason}) before the answer`)));
      this.subscribe(payload, {
        next: (value) => (result = value),
        error: (errors) => resolve({ errors: [...errors] }),
        complete: () => (result ? resolve(result) : reject(new ParleyConnectionError('the operation completed without a result'))),
      });
    });
  }

  /** Gives up on the socket at once (a stalled network may never deliver a close). */
  terminate(): void {
    this.end({ code: 4499, reason: 'Terminated' });
  }

  private end(end: SessionEnd): void {
    if (!this.alive) return;
    this.alive = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    // dispose() rejects when the socket never opened: that is this end too.
    Promise.resolve(this.client.dispose()).catch(() => {});
    const socket = this.rawSocket as (WebSocketLike & { terminate?: () => void }) | undefined;
    try {
      if (socket?.terminate) socket.terminate();
      else socket?.close(1000, 'Normal Closure');
    } catch {
      // already closed
    }
    this.finish(end);
  }

  private readonly named = new Map<string, ReturnType<typeof setTimeout>>();

  private after(ms: number, run: () => void, name?: string): void {
    if (name) this.clearTimer(name);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (name) this.named.delete(name);
      run();
    }, ms);
    this.timers.add(timer);
    if (name) this.named.set(name, timer);
  }

  private clearTimer(name: string): void {
    const timer = this.named.get(name);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(timer);
    this.named.delete(name);
  }
}
