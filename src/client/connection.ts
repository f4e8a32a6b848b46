import { backoffDelay, pause, type BackoffOptions } from './backoff.js';
import { ParleyAuthError } from './errors.js';
import { SocketSession, type WebSocketConstructor } from './socket-session.js';
import type { TokenRefresher } from './token-refresher.js';

/**
 * - `connecting`: the first socket is being opened.
 * - `connected`: a socket is open and acknowledged; streams are live and sends go over it.
 * - `offline`: no socket; waiting (backoff) before the next attempt.
 * - `reconnecting`: opening a socket again after a drop or a failed attempt.
 * - `closed`: `close()` was called, or the server refused the token (4403): nothing reconnects.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed';

/** The WebSocket close code for a refused token (README "WebSocket close codes"). */
export const TOKEN_REFUSED_CLOSE_CODE = 4403;

export interface ConnectionOptions {
  wsUrl: string;
  webSocketImpl: WebSocketConstructor;
  tokens: TokenRefresher;
  backoff: BackoffOptions;
  keepAliveMs: number;
  pongTimeoutMs: number;
  connectTimeoutMs: number;
  /** The server refused the token: the connection is closed for good. */
  onAuthFailure(error: ParleyAuthError): void;
}

/**
 * The client's one WebSocket at a time: opens it, notices when it is gone (a close, or a stall caught by an
 * unanswered ping), and opens the next after an exponential backoff with jitter, reading the token again each
 * time. Streams and the outbox listen for each new session instead of relying on graphql-ws's retries, which would
 * re-subscribe with stale variables.
 */
export class Connection {
  private state: ConnectionStatus = 'connecting';
  private session: SocketSession | undefined;
  private opening: SocketSession | undefined;
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private readonly sessionListeners = new Set<(session: SocketSession) => void>();
  private readonly stop = new AbortController();

  constructor(private readonly options: ConnectionOptions) {
    void this.run();
  }

  get status(): ConnectionStatus {
    return this.state;
  }

  /** The open, acknowledged socket, if there is one. */
  current(): SocketSession | undefined {
    return this.session?.connected ? this.session : undefined;
  }

  /** Aborted when the connection closes for good. */
  get closedSignal(): AbortSignal {
    return this.stop.signal;
  }

  /** Calls `listener` on every status change; returns the unsubscribe. */
  onStatus(listener: (status: ConnectionStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** Calls `listener` with every newly acknowledged socket (and now, with the open one); returns the unsubscribe. */
  onSession(listener: (session: SocketSession) => void): () => void {
    this.sessionListeners.add(listener);
    const open = this.current();
    if (open) queueMicrotask(() => this.sessionListeners.has(listener) && open === this.current() && listener(open));
    return () => this.sessionListeners.delete(listener);
  }

  /** Resolves when the next socket is acknowledged, `signal` aborts, or the connection closes. */
  nextSession(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        off();
        this.stop.signal.removeEventListener('abort', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const off = this.onSession(done);
      this.stop.signal.addEventListener('abort', done, { once: true });
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Closes the socket and stops reconnecting. */
  close(): void {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    this.session?.terminate();
    this.opening?.terminate();
    this.setStatus('closed');
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let everConnected = false;
    while (!this.stop.signal.aborted) {
      this.setStatus(everConnected || attempt > 0 ? 'reconnecting' : 'connecting');
      const token = await this.options.tokens.current().catch(() => undefined);
      if (this.stop.signal.aborted) return;
      if (token !== undefined) {
        const session = new SocketSession({ ...this.options, url: this.options.wsUrl, token });
        this.opening = session;
        if (await session.acknowledged) {
          everConnected = true;
          attempt = 0;
          this.session = session;
          this.setStatus('connected');
          this.options.tokens.arm(token);
          for (const listener of [...this.sessionListeners]) listener(session);
        }
        const end = await session.ended;
        this.session = this.opening = undefined;
        if (this.stop.signal.aborted) return;
        if (end.code === TOKEN_REFUSED_CLOSE_CODE) {
          // An expired token is worth one more try when the app (or a refresh) has a different one by now.
          const next = end.reason === 'Token expired' ? await this.options.tokens.current().catch(() => token) : token;
          if (next === token) return this.fail(new ParleyAuthError(end.code, end.reason));
          continue;
        }
      }
      this.setStatus('offline');
      await pause(backoffDelay(attempt++, this.options.backoff), this.stop.signal);
    }
  }

  private fail(error: ParleyAuthError): void {
    this.close();
    this.options.onAuthFailure(error);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.state === status || this.state === 'closed') return;
    this.state = status;
    for (const listener of [...this.statusListeners]) listener(status);
  }
}
