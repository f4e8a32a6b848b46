import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { SIGNED_OUT, TOKEN_EXPIRED, type Authentication, type Authenticator } from '../auth/authenticator.js';
import type { CancelTimer, Clock } from '../domain/clock.js';
import { ForbiddenError, UnauthenticatedError } from '../domain/errors.js';
import type { SocketCount } from '../domain/presence.service.js';

/** Close code for a socket over its user's socket cap: 1008, policy violation. */
export const TOO_MANY_SOCKETS_CLOSE_CODE = 1008;

/** An admission in progress (see SocketSessions.beginAdmission). */
export interface Admission {
  readonly signOutsBefore: number;
  end(): void;
}

/** Told when a user's authenticated sockets open and close (PresenceService), and keeper of the socket cap. */
export interface SocketPresence {
  /**
   * Counts an opened socket of the user unless the user has `maxSockets` open already, across every process that
   * shares the presence state (0: no cap): `overCap` then, nothing counted. `uncounted`: let in without being
   * counted (the presence state could not be reached).
   */
  connected(userId: string, maxSockets: number): Promise<SocketCount>;
  /** A socket that `connected` counted closed; never called for one let in uncounted. */
  disconnected(userId: string): void;
}

/** What a socket's session needs of the socket's state. */
export interface SessionState {
  socket: WebSocket;
  auth: Authentication;
  /** The user whose sockets this one is listed among. */
  userId?: string;
  /** Whether presence counted this socket: only then is its close reported. */
  counted?: boolean;
  /** Cancels the timer that closes the socket when its token expires. */
  cancelExpiry?: CancelTimer;
  /** Set while the socket renews its own credentials: sign-outs pass it by, noting that they did. */
  renewal?: { signedOut: boolean };
}

/**
 * Who is signed in on which socket: the per-user socket cap, closing a user's sockets on sign-out (4403 "Signed
 * out"), closing a socket when its token expires by the injected clock (4403 "Token expired"), `authenticate`
 * swapping in a fresh token of the same user, and telling presence when a user socket opens and closes.
 */
export class SocketSessions {
  private readonly socketsOfUser = new Map<string, Set<SessionState>>();
  /** Sign-outs heard so far, and the number of the last one of each user heard while an admission was running. */
  private signOuts = 0;
  private readonly lastSignOutOf = new Map<string, number>();
  private admissions = 0;

  constructor(
    private readonly authenticator: Authenticator,
    /** 0: no cap. */
    private readonly maxSocketsPerUser: number,
    /** Times token expiry; tests pass a clock they move themselves. */
    private readonly clock: Clock,
    private readonly presence: SocketPresence,
  ) {}

  /**
   * Starts the session of an authenticated socket. False (and the socket closed with 1008) when the user has
   * WS_MAX_SOCKETS_PER_USER open already, counted across every process sharing the presence state; false too when
   * the socket closed while it was being counted.
   */
  async admit(state: SessionState, auth: Authentication, admission?: Admission): Promise<boolean> {
    if (auth.kind === 'user') {
      const userId = auth.viewer.id;
      const count = await this.presence.connected(userId, this.maxSocketsPerUser);
      if (count === 'overCap') {
        state.socket.close(TOO_MANY_SOCKETS_CLOSE_CODE, `Too many sockets for this user (at most ${this.maxSocketsPerUser})`);
        return false;
      }
      if (state.socket.readyState !== state.socket.OPEN) {
        if (count === 'counted') this.presence.disconnected(userId); // gone while counted: `end` found no session to end
        return false;
      }
      state.counted = count === 'counted';
      let sockets = this.socketsOfUser.get(userId);
      if (!sockets) this.socketsOfUser.set(userId, (sockets = new Set()));
      sockets.add(state);
      state.userId = userId;
      if (admission && (this.lastSignOutOf.get(userId) ?? 0) > admission.signOutsBefore) {
        // Signed out while this socket was being admitted (its token checked before, the sign-out heard since).
        state.socket.close(CloseCode.Forbidden, SIGNED_OUT);
        return false;
      }
    }
    state.auth = auth;
    this.armExpiry(state);
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
    this.armExpiry(state);
    return auth.expiresAt;
  }

  /**
   * Call before a socket's token is checked, pass the result to `admit`, and call `end()` once admitted or refused:
   * a sign-out heard in between (a token checked just before it was revoked) then closes the socket.
   */
  beginAdmission(): Admission {
    this.admissions++;
    let ended = false;
    return {
      signOutsBefore: this.signOuts,
      end: () => {
        if (ended) return;
        ended = true;
        if (--this.admissions === 0) this.lastSignOutOf.clear();
      },
    };
  }

  /** Users with an authenticated socket here whose token carries a token version (Parley's own tokens). */
  versionedUsers(): string[] {
    const users: string[] = [];
    for (const [userId, sockets] of this.socketsOfUser) {
      for (const state of sockets) {
        if (state.auth.kind === 'user' && state.auth.tokenVersion !== undefined) {
          users.push(userId);
          break;
        }
      }
    }
    return users;
  }

  /**
   * Closes the sockets whose token is no longer current: `current` holds each asked user's token version now
   * (absent: the account is gone). For sign-outs this process did not hear of (a bus message lost); returns the
   * users whose sockets it closed.
   */
  revalidate(current: ReadonlyMap<string, number>, asked: readonly string[]): string[] {
    const revoked: string[] = [];
    for (const userId of asked) {
      const version = current.get(userId);
      const stale = [...(this.socketsOfUser.get(userId) ?? [])].filter(
        (state) => state.auth.kind === 'user' && state.auth.tokenVersion !== undefined && state.auth.tokenVersion !== version && !state.renewal,
      );
      if (stale.length === 0) continue;
      revoked.push(userId);
      for (const state of stale) state.socket.close(CloseCode.Forbidden, SIGNED_OUT);
    }
    return revoked;
  }

  /** Closes every socket of a user who signed out, but one renewing its credentials (see renewCredentials). */
  signedOut(userId: string): void {
    this.signOuts++;
    if (this.admissions > 0) this.lastSignOutOf.set(userId, this.signOuts);
    for (const state of this.socketsOfUser.get(userId) ?? []) {
      if (state.renewal) state.renewal.signedOut = true;
      else state.socket.close(CloseCode.Forbidden, SIGNED_OUT);
    }
  }

  /**
   * Runs `work` (a password change sent over this socket: it revokes every token of the user and returns a fresh
   * one) with this socket spared the sign-out, then switches the socket to the fresh token. When `work` or the
   * switch fails after a sign-out passed the socket by, the socket closes with 4403 "Signed out" like the others.
   */
  async renewCredentials<T extends { token: string }>(state: SessionState, work: () => Promise<T>): Promise<T> {
    const renewal = { signedOut: false };
    state.renewal = renewal;
    try {
      const result = await work();
      await this.reauthenticate(state, result.token);
      return result;
    } catch (error) {
      if (renewal.signedOut) state.socket.close(CloseCode.Forbidden, SIGNED_OUT);
      throw error;
    } finally {
      if (state.renewal === renewal) delete state.renewal;
    }
  }

  /** Whether the user has an authenticated socket open in this process now. */
  isConnected(userId: string): boolean {
    return this.socketsOfUser.has(userId);
  }

  /** The socket closed: ends its session. */
  end(state: SessionState): void {
    state.cancelExpiry?.();
    if (state.userId === undefined) return;
    const sockets = this.socketsOfUser.get(state.userId);
    if (!sockets?.delete(state)) return;
    if (sockets.size === 0) this.socketsOfUser.delete(state.userId);
    if (state.counted) this.presence.disconnected(state.userId);
  }

  /** Closes the socket with 4403 "Token expired" when its token expires; replaces the timer of an earlier token. */
  private armExpiry(state: SessionState): void {
    state.cancelExpiry?.();
    delete state.cancelExpiry;
    if (state.auth.kind !== 'user') return;
    const wait = Math.max(0, state.auth.expiresAt.getTime() - this.clock.now());
    state.cancelExpiry = this.clock.schedule(wait, () => state.socket.close(CloseCode.Forbidden, TOKEN_EXPIRED));
  }
}
