/**
 * `parley/client`: a typed Parley client for browsers and Node >= 20 that keeps the server's delivery promise
 * end to end (README "The client SDK").
 */
import { ParleyAuthenticateDocument, ParleyRefreshTokenDocument, type ParleyMessageFragment } from './__generated__/graphql.js';
import type { BackoffOptions } from './backoff.js';
import { browserNetwork, Connection, type ConnectionStatus, type NetworkMonitor } from './connection.js';
import { inboxStream, type InboxEvent, type InboxResync } from './inbox-stream.js';
import { OperationRunner, type FetchLike, type OperationRoute, type ParleyDocument } from './operations.js';
import { Outbox, type PendingSend, type SendMessageInput } from './outbox.js';
import { PresenceFollower, type PresenceHandle, type PresenceOptions } from './presence-stream.js';
import { roomStream, type RoomEvent, type RoomResync } from './room-stream.js';
import type { WebSocketConstructor } from './socket-session.js';
import { StreamFollower, type StreamHandle, type StreamHandlers } from './stream-follower.js';
import { TokenRefresher, type TokenSource } from './token-refresher.js';

export * from './errors.js';
export type { BackoffOptions } from './backoff.js';
export { browserNetwork, closeVerdict, type CloseVerdict, type ConnectionStatus, type NetworkMonitor } from './connection.js';
export type { InboxEvent, InboxEventsPage, InboxResync } from './inbox-stream.js';
export type { FetchLike, OperationRoute, ParleyDocument } from './operations.js';
export type { PendingSend, SendMessageInput } from './outbox.js';
export type { PresenceChange, PresenceHandle, PresenceOptions } from './presence-stream.js';
export type { MessagesPage, RoomEvent, RoomResync } from './room-stream.js';
export type { WebSocketConstructor, WebSocketLike } from './socket-session.js';
export type { StreamHandle, StreamHandlers } from './stream-follower.js';
export type { TokenSource } from './token-refresher.js';
/** The message as the SDK selects it (what `sendMessage` resolves to and message events carry). */
export type ParleyMessage = ParleyMessageFragment;

export interface ParleyClientOptions {
  /** The server's GraphQL URL, `http(s)://host/graphql`; the WebSocket URL is derived (`ws(s)://`). */
  url: string;
  /** The bearer token, read on every (re)connect and request; null for anonymous. Default: none. */
  token?: TokenSource;
  /** A WebSocket class: `ws`'s default export in Node 20. Default `globalThis.WebSocket`. */
  webSocketImpl?: unknown;
  /** Default `globalThis.fetch`. */
  fetchImpl?: FetchLike;
  /** Called shortly before the token expires with `refresh` (refreshToken + authenticate). Default: refresh at once. */
  onTokenExpiring?: (refresh: () => Promise<void>) => void;
  /** Told every token the client refreshed, so the app can keep it (say, in storage). */
  onTokenRefreshed?: (token: string, expiresAt: string) => void;
  /** Refresh this many ms before expiry. Default: a quarter of the token's lifetime, at most 60 s. */
  tokenRefreshLeadMs?: number;
  /**
   * Client-wide errors: a ParleyAuthError when the server refused the token (4403), a ParleyProtocolError for a
   * close no reconnect can fix (4400, 4401, 4406, 4409, 4429; see `closeVerdict`) — the client is then `closed` —
   * or a failed token refresh.
   */
  onError?: (error: unknown) => void;
  /** `auto` (default): sends go over the open socket, over HTTP while there is none. `http`: always HTTP. */
  sendVia?: OperationRoute;
  /** Reconnect and retry waits. Default: 300 ms doubling to 15 s, with jitter. */
  backoff?: BackoffOptions;
  /** Ping interval in ms. Default 10,000. */
  keepAliveMs?: number;
  /** A ping unanswered this long means the connection is dead (ms). Default 5,000. */
  pongTimeoutMs?: number;
  /** A socket not acknowledged within this many ms is given up and retried. Default 10,000. */
  connectTimeoutMs?: number;
  /**
   * The device's network. Default in browsers: `navigator.onLine` with the window's `online`/`offline` events
   * (`browserNetwork()`); in Node none. Offline drops the socket at once (status `offline`) and holds reconnects
   * and send retries until online, which reconnects at once without the backoff wait. `null`: ignore the network.
   */
  network?: NetworkMonitor | null;
  /** An HTTP request unanswered this long (ms) fails with ParleyConnectionError (sends are then retried). Default 15,000. */
  requestTimeoutMs?: number;
}

export interface RoomEventsOptions extends StreamHandlers<RoomEvent, RoomResync> {
  /** Resume after this cursor; default: the room's cursor, read before subscribing. */
  after?: string | null;
}

export interface InboxOptions extends StreamHandlers<InboxEvent, InboxResync> {
  /** Resume after this cursor; default: `inboxCursor`, read before subscribing. */
  after?: string | null;
  /** The InboxLive event arrived: every room is watched now, the moment to read `rooms`. */
  onLive?(): void;
}

export interface ParleyClient {
  /** Runs a typed query or mutation over HTTP. @throws ParleyGraphQLError, ParleyConnectionError */
  request<TData, TVariables>(document: ParleyDocument<TData, TVariables>, variables: TVariables): Promise<TData>;
  /** Follows a room's events: each persisted event exactly once, in seq order, across drops and restarts. */
  roomEvents(roomId: string, options: RoomEventsOptions): StreamHandle;
  /** Follows the viewer's inbox, with the same guarantees. */
  inbox(options: InboxOptions): StreamHandle;
  /**
   * Watches the presence of 1 to 100 users: `onChange` gets the current state of each first, then every change.
   * Re-subscribed on every reconnect with the same ids; the server then sends the current state of each again
   * (presence is state, not a log: no cursor, nothing to replay).
   */
  presence(userIds: readonly string[], options: PresenceOptions): PresenceHandle;
  /**
   * Sends a message exactly once (a clientMessageId, retried until acknowledged) and resolves to the stored message.
   * @throws ParleyGraphQLError for a permanent error (FORBIDDEN, BAD_USER_INPUT, NOT_FOUND, UNAUTHENTICATED);
   *   ParleyClientClosedError when the client closes first.
   */
  sendMessage(input: SendMessageInput): Promise<ParleyMessage>;
  /** Sends not acknowledged yet, oldest first. A send leaves it before its promise settles. */
  readonly pendingSends: readonly PendingSend[];
  /**
   * Calls `listener` with the new `pendingSends` whenever it changes (a send made, acknowledged, rejected, or
   * abandoned by `close()`), before the send's promise settles; returns the unsubscribe.
   */
  onPendingSends(listener: (pending: readonly PendingSend[]) => void): () => void;
  readonly status: ConnectionStatus;
  /** Calls `listener` on each status change; returns the unsubscribe. */
  onStatus(listener: (status: ConnectionStatus) => void): () => void;
  /** Refreshes the token now (refreshToken, then authenticate on the open socket). */
  refreshToken(): Promise<void>;
  /** Ends streams, rejects pending sends and closes the socket. */
  close(): Promise<void>;
}

/** Creates a client; it connects at once and reconnects by itself until `close()`. */
export function createParleyClient(options: ParleyClientOptions): ParleyClient {
  const webSocketImpl = (options.webSocketImpl ?? (globalThis as { WebSocket?: unknown }).WebSocket) as WebSocketConstructor | undefined;
  if (!webSocketImpl) throw new TypeError('no WebSocket implementation: pass webSocketImpl (for example `ws` in Node 20)');
  const fetchImpl: FetchLike = options.fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  const backoff = options.backoff ?? {};
  const reportError = (error: unknown) => options.onError?.(error);
  const source: TokenSource = options.token ?? (() => null);

  let runner: OperationRunner | undefined;
  let connection: Connection | undefined;
  const tokens = new TokenRefresher({
    source,
    fetchFresh: async (token) => (await runner!.run(ParleyRefreshTokenDocument, {}, { route: 'http', token })).refreshToken,
    swapOnSocket: async (token) => {
      const session = connection?.current();
      if (session) await runner!.run(ParleyAuthenticateDocument, { token }, { route: 'auto' });
    },
    onTokenExpiring: options.onTokenExpiring,
    onTokenRefreshed: options.onTokenRefreshed,
    onError: reportError,
    leadMs: options.tokenRefreshLeadMs,
  });
  connection = new Connection({
    wsUrl: options.url.replace(/^http/, 'ws'),
    webSocketImpl,
    tokens,
    backoff,
    keepAliveMs: options.keepAliveMs ?? 10_000,
    pongTimeoutMs: options.pongTimeoutMs ?? 5_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    network: options.network === null ? undefined : (options.network ?? browserNetwork()),
    onFatalClose: (error) => {
      shutdown();
      reportError(error);
    },
  });
  runner = new OperationRunner(options.url, fetchImpl, () => tokens.current(), connection, options.requestTimeoutMs ?? 15_000);
  const outbox = new Outbox(runner, connection, backoff, options.sendVia ?? 'auto');
  const streams = new Set<{ unsubscribe(): void }>();
  const follow = (handle: StreamHandle) => {
    streams.add(handle);
    return {
      unsubscribe: () => (streams.delete(handle), handle.unsubscribe()),
      get cursor() {
        return handle.cursor;
      },
      ready: handle.ready,
    };
  };
  const shutdown = () => {
    tokens.stop();
    connection!.close();
    outbox.close();
    for (const stream of streams) stream.unsubscribe();
    streams.clear();
  };
  const live = connection;
  const run = runner;

  return {
    request: (document, variables) => run.run(document, variables, { route: 'http' }),
    roomEvents: (roomId, { after, ...handlers }) => follow(new StreamFollower(live, roomStream(roomId, run), handlers, backoff, after)),
    inbox: ({ after, onLive, ...handlers }) =>
      follow(
        new StreamFollower(
          live,
          inboxStream(run),
          {
            ...handlers,
            onEvent: async (event) => {
              await handlers.onEvent(event);
              if (event.__typename === 'InboxLive') onLive?.();
            },
          },
          backoff,
          after,
        ),
      ),
    presence: (userIds, handlers) => {
      const watcher = new PresenceFollower(live, userIds, handlers, backoff);
      streams.add(watcher);
      return { unsubscribe: () => (streams.delete(watcher), watcher.unsubscribe()) };
    },
    sendMessage: (input) => outbox.send(input),
    get pendingSends() {
      return outbox.pending;
    },
    onPendingSends: (listener) => outbox.onChange(listener),
    get status() {
      return live.status;
    },
    onStatus: (listener) => live.onStatus(listener),
    refreshToken: () => tokens.refresh(),
    close: async () => shutdown(),
  };
}
