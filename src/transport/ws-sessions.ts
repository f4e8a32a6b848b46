import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { SIGNED_OUT, TOKEN_EXPIRED, type Authentication, type Authenticator } from '../auth/authenticator.js';
import { ForbiddenError, UnauthenticatedError } from '../domain/errors.js';

/** Close code for a socket over its user's socket cap: 1008, policy violation. */
export const TOO_MANY_SOCKETS_CLOSE_CODE = 1008;

/** Longest delay a Node timer takes (about 24.8 days); a later expiry is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a socket's session needs of the socket's state. */
export interface SessionState {
  socket: WebSocket;
  auth: Authentication;
  /** The user whose sockets this one is listed among. */
  userId?: string;
  /** Closes the socket when its token expires. */
  expiry?: NodeJS.Timeout;
}

/**
 * Who is signed in on which socket: the per-user socket cap, closing a user's sockets on sign-out, closing a
 * socket when its token expires (4403), and `authenticate` swapping in a fresh token of the same user.
 */
export class SocketSessions {
  private readonly socketsOfUser = new Map<string, Set<SessionState>>();

  constructor(
    private readonly authenticator: Authenticator,
    /** 0: no cap. */
    private readonly maxSocketsPerUser: number,
  ) {}

  /** Starts the session of an authenticated socket. False (and the socket closed with 1008) over the cap. */
  admit(state: SessionState, auth: Authentication): boolean {
    if (auth.kind === 'user') {
      const open = this.socketsOfUser.get(auth.viewer.id)?.size ?? 0;
      if (this.maxSocketsPerUser > 0 && open >= this.maxSocketsPerUser) {
        state.socket.close(TOO_MANY_SOCKETS_CLOSE_CODE, `Too many sockets for this user (at most ${this.maxSocketsPerUser})`);
        return false;
      }
      let sockets = this.socketsOfUser.get(auth.viewer.id);
      if (!sockets) this.socketsOfUser.set(auth.viewer.id, (sockets = new Set()));
      sockets.add(state);
      state.userId = auth.viewer.id;
    }
    state.auth = auth;
    armExpiry(state);
    return true;
  }

  /** Switches a socket to another token of the same user; returns the new expiry. */
  async reauthenticate(state: SessionState, token: string): Promise<Date> {
    const auth = await this.authenticator.authenticate(token);
    if (auth.kind !== 'user') throw new UnauthenticatedError(auth.kind === 'refused' ? auth.reason : undefined);
    if (state.auth.kind !== 'user' || state.auth.viewer.id !== auth.viewer.id) {
      throw new ForbiddenError('A socket stays with the user it was opened for: open another socket for another user');
    }
    state.auth = auth;
    armExpiry(state);
    return auth.expiresAt;
  }

  /** Closes every socket of a user who signed out. */
  signedOut(userId: string): void {
    for (const state of this.socketsOfUser.get(userId) ?? []) state.socket.close(CloseCode.Forbidden, SIGNED_OUT);
  }

  /** The socket closed: ends its session. */
  end(state: SessionState): void {
    clearTimeout(state.expiry);
    if (state.userId === undefined) return;
    const sockets = this.socketsOfUser.get(state.userId);
    sockets?.delete(state);
    if (sockets?.size === 0) this.socketsOfUser.delete(state.userId);
  }
}

/** Closes the socket with 4403 when its token expires. */
function armExpiry(state: SessionState): void {
  clearTimeout(state.expiry);
  if (state.auth.kind !== 'user') return;
  const wait = state.auth.expiresAt.getTime() - Date.now();
  state.expiry = setTimeout(() => {
    if (wait > MAX_TIMER_MS) armExpiry(state);
    else state.socket.close(CloseCode.Forbidden, TOKEN_EXPIRED);
  }, Math.max(0, Math.min(wait, MAX_TIMER_MS)));
  state.expiry.unref();
}
