import type { Authentication } from '../auth/authenticator.js';
import { UnauthenticatedError } from '../domain/errors.js';
import type { DeliveredRoomEvent } from '../domain/room-events.js';
import type { Services } from '../domain/services.js';
import type { EventSink } from '../realtime/stream-subscriber.js';
import type { Viewer } from '../domain/viewer.js';
import { createLoaders, type Loaders } from './loaders.js';

/** What every resolver receives. Built fresh for each operation. */
export interface GraphQLContext {
  readonly auth: Authentication;
  readonly services: Services;
  /** This operation's loaders; a subscription swaps in new ones for every event. */
  loaders: Loaders;
  /**
   * Where a room subscription's events go when the transport delivers them itself (the WebSocket's grouped
   * fan-out); unset, they are executed per subscriber by graphql-js. See roomStreamSource.
   */
  readonly eventSink?: EventSink<DeliveredRoomEvent>;
  /** The peer address of the request or socket: what per-address rate limits count. */
  readonly clientAddress: string;
  /** The socket an operation arrived on (WebSocket only). */
  readonly connection?: SocketConnection;
}

/** What an operation may do to the socket it arrived on. */
export interface SocketConnection {
  /** Switches the socket to another token of the same user; returns its expiry. */
  authenticate(token: string): Promise<Date>;
  /**
   * Runs `work`, which revokes the user's tokens and issues a fresh one (a password change), with this socket
   * spared the sign-out it causes; the socket then carries the fresh token. Should `work` fail after a sign-out,
   * the socket closes as the others did.
   */
  renewCredentials<T extends { token: string }>(work: () => Promise<T>): Promise<T>;
}

export function createContext(
  services: Services,
  auth: Authentication,
  options: { clientAddress?: string | undefined; eventSink?: EventSink<DeliveredRoomEvent>; connection?: SocketConnection } = {},
): GraphQLContext {
  let loaders: Loaders | undefined;
  const { eventSink, connection } = options;
  return {
    auth,
    services,
    clientAddress: options.clientAddress ?? 'unknown',
    // Created on first use: a subscription's own context is held for its whole life and never needs them.
    get loaders() {
      return (loaders ??= createLoaders(services, viewerOf(auth)));
    },
    set loaders(fresh) {
      loaders = fresh;
    },
    ...(eventSink ? { eventSink } : {}),
    ...(connection ? { connection } : {}),
  };
}

function viewerOf(auth: Authentication): Viewer | null {
  return auth.kind === 'user' ? auth.viewer : null;
}

/**
 * The signed-in viewer.
 * @throws UnauthenticatedError without a user, saying why when a token was refused.
 */
export function requireViewer(context: GraphQLContext): Viewer {
  const { auth } = context;
  switch (auth.kind) {
    case 'user':
      return auth.viewer;
    case 'refused':
      throw new UnauthenticatedError(auth.reason);
    case 'anonymous':
      throw new UnauthenticatedError();
    default:
      return auth satisfies never;
  }
}

/** Gives a long-lived subscription fresh loaders for the next event, so it never serves rows cached earlier. */
export function renewLoaders(context: GraphQLContext): void {
  context.loaders = createLoaders(context.services, viewerOf(context.auth));
}
