import { backoffDelay, pause, type BackoffOptions } from './backoff.js';
import { ParleyAuthError, ParleyProtocolError, type ParleyCloseError } from './errors.js';
import { SocketSession, type WebSocketConstructor } from './socket-session.js';
import type { TokenRefresher } from './token-refresher.js';

/**
 * - `connecting`: the first socket is being opened.
 * - `connected`: a socket is open and acknowledged; streams are live and sends go over it.
 * - `offline`: no socket; waiting (backoff) before the next attempt, or until the network is back.
 * - `reconnecting`: opening a socket again after a drop or a failed attempt.
 * - `closed`: `close()` was called, or the server closed the socket with a final code (see `closeVerdict`):
 *   nothing reconnects.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed';

/** The WebSocket close code for a refused token (README "WebSocket close codes"). */
export const TOKEN_REFUSED_CLOSE_CODE = 4403;

/**
 * What the client does after the server closes its socket with `code`:
 * - `reconnect`: drops, stops (1001) and drains (1012, service restart), slow consumer and database outage (1013),
 *   init timeouts (4408), a socket the SDK gave up on (4499), anything unknown. Backoff starts over after a socket
 *   that was acknowledged.
 * - `reconnect-slower`: 4500 (an unexpected server error: may be transient, a bad deploy or a passing fault),
 *   1008 (over the per-user socket cap: another tab may close) and 1009 (a message over the size limit). Retried,
 *   but the backoff keeps growing across sockets, so a server that fails the same way each time is not hammered.
 * - `token`: 4403, the token was refused. Final, unless it said "Token expired" and `token()` has a different one.
 * - `protocol`: 4400 (bad request), 4401 (subscribe before acknowledgement; Parley refuses tokens with 4403, not
 *   4401), 4406 (subprotocol not acceptable), 4409 (subscriber already exists), 4429 (too many init requests).
 *   Each means this client broke the graphql-ws protocol or does not speak the server's: the next socket would
 *   fail the same way, so the client closes and reports a ParleyProtocolError instead of looping.
 */
export type CloseVerdict = 'reconnect' | 'reconnect-slower' | 'token' | 'protocol';

const PROTOCOL_CLOSE_CODES: ReadonlySet<number> = new Set([4400, 4401, 4406, 4409, 4429]);
const SLOWER_CLOSE_CODES: ReadonlySet<number> = new Set([4500, 1008, 1009]);

/** The client's decision for a socket closed with `code` (see CloseVerdict). */
export function closeVerdict(code: number): CloseVerdict {
  if (code === TOKEN_REFUSED_CLOSE_CODE) return 'token';
  if (PROTOCOL_CLOSE_CODES.has(code)) return 'protocol';
  if (SLOWER_CLOSE_CODES.has(code)) return 'reconnect-slower';
  return 'reconnect';
}

/**
 * Whether the device has a network, and when that changes. In browsers: `navigator.onLine` and the window's
 * `online`/`offline` events (`browserNetwork()`); tests inject their own.
 */
export interface NetworkMonitor {
  onLine(): boolean;
  /** Calls `listener` on every change; returns the unsubscribe. */
  subscribe(listener: (online: boolean) => void): () => void;
}

/** The browser's network events, or undefined where there are none (Node). */
export function browserNetwork(): NetworkMonitor | undefined {
  const scope = globalThis as {
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
    navigator?: { onLine?: unknown };
  };
  const { addEventListener, removeEventListener } = scope;
  if (typeof addEventListener !== 'function' || typeof removeEventListener !== 'function' || typeof scope.navigator?.onLine !== 'boolean') {
    return undefined;
  }
  return {
    onLine: () => scope.navigator?.onLine !== false,
    subscribe(listener) {
      const online = () => listener(true);
      const offline = () => listener(false);
      addEventListener.call(scope, 'online', online);
      addEventListener.call(scope, 'offline', offline);
      return () => {
        removeEventListener.call(scope, 'online', online);
        removeEventListener.call(scope, 'offline', offline);
      };
    },
  };
}

/** Resolves when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
}

export interface ConnectionOptions {
  wsUrl: string;
  webSocketImpl: WebSocketConstructor;
  tokens: TokenRefresher;
  backoff: BackoffOptions;
  keepAliveMs: number;
  pongTimeoutMs: number;
  connectTimeoutMs: number;
  /** The device's network; none: always assumed online (the socket's pings still notice a dead one). */
  network?: NetworkMonitor;
  /** The server closed the socket with a final code (a refused token, a protocol error): closed for good. */
  onFatalClose(error: ParleyCloseError): void;
}

/**
 * The client's one WebSocket at a time: opens it, notices when it is gone (a close, or a stall caught by an
 * unanswered ping), and opens the next after an exponential backoff with jitter, reading the token again each
 * time. Streams and the outbox listen for each new session instead of relying on graphql-ws's retries, which would
 * re-subscribe with stale variables. With a network monitor, going offline drops the socket at once (no waiting for
 * the ping timeout) and nothing is attempted until the network is back; coming online connects at once, skipping
 * the backoff wait.
 */
export class Connection {
  private state: ConnectionStatus = 'connecting';
  private session: SocketSession | undefined;
  private opening: SocketSession | undefined;
  private readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  private readonly sessionListeners = new Set<(session: SocketSession) => void>();
  private readonly stop = new AbortController();
  /** Aborted (and replaced) to cut a backoff wait short: network back, or close. */
  private wake = new AbortController();
  private online: boolean;
  private readonly offNetwork: () => void;

  constructor(private readonly options: ConnectionOptions) {
    this.online = options.network?.onLine() ?? true;
    this.offNetwork = options.network?.subscribe((online) => this.networkChanged(online)) ?? (() => {});
    void this.run();
  }

  /** True while the network monitor says the device is offline (sends then wait for `whenOnline`). */
  get networkOffline(): boolean {
    return !this.online;
  }

  /** Resolves once the network monitor says online (at once without one), or the connection closes. */
  async whenOnline(): Promise<void> {
    while (!this.online && !this.stop.signal.aborted) await aborted(this.wake.signal);
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
    this.offNetwork();
    this.wake.abort();
    this.session?.terminate();
    this.opening?.terminate();
    this.setStatus('closed');
  }

  private networkChanged(online: boolean): void {
    if (this.stop.signal.aborted) return;
    this.online = online;
    if (!online) {
      // The socket is dead or about to be: give it up now rather than after an unanswered ping.
      this.setStatus('offline');
      this.session?.terminate();
      this.opening?.terminate();
    }
    // Cuts short the backoff (online) or the wait for the network (either way, the loop looks again).
    this.wake.abort();
    this.wake = new AbortController();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let everConnected = false;
    while (!this.stop.signal.aborted) {
      if (!this.online) {
        this.setStatus('offline');
        await aborted(this.wake.signal);
        continue;
      }
      this.setStatus(everConnected || attempt > 0 ? 'reconnecting' : 'connecting');
      const token = await this.options.tokens.current().catch(() => undefined);
      if (this.stop.signal.aborted) return;
      if (!this.online) continue;
      if (token !== undefined) {
        const session = new SocketSession({ ...this.options, url: this.options.wsUrl, token });
        this.opening = session;
        let acknowledged = false;
        if (await session.acknowledged) {
          acknowledged = everConnected = true;
          this.session = session;
          this.setStatus('connected');
          this.options.tokens.arm(token);
          for (const listener of [...this.sessionListeners]) listener(session);
        }
        const end = await session.ended;
        this.session = this.opening = undefined;
        if (this.stop.signal.aborted) return;
        const verdict = closeVerdict(end.code);
        if (verdict === 'protocol') return this.fail(new ParleyProtocolError(end.code, end.reason));
        if (verdict === 'token') {
          // An expired token is worth one more try when the app (or a refresh) has a different one by now.
          const next = end.reason === 'Token expired' ? await this.options.tokens.current().catch(() => token) : token;
          if (next === token) return this.fail(new ParleyAuthError(end.code, end.reason));
          continue;
        }
        if (acknowledged && verdict === 'reconnect') attempt = 0;
      }
      this.setStatus('offline');
      if (this.online) await pause(backoffDelay(attempt++, this.options.backoff), this.wake.signal);
    }
  }

  private fail(error: ParleyCloseError): void {
    this.close();
    this.options.onFatalClose(error);
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.state === status || this.state === 'closed') return;
    this.state = status;
    for (const listener of [...this.statusListeners]) listener(status);
  }
}
