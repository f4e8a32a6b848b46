/**
 * The streams the realtime layer serves, each with its own gap-free seq: a room's event log and a user's own log
 * (the inbox). A key is all a bus needs to route an event, in this process or between processes.
 */
export type StreamKey = `room:${string}` | `user:${string}`;

export function roomStream(roomId: string): StreamKey {
  return `room:${roomId}`;
}

export function userStream(userId: string): StreamKey {
  return `user:${userId}`;
}

/** Ephemeral: a user's tokens were revoked (sign-out, password change, deletion); every process closes their sockets. */
export const SIGNED_OUT_STREAM = 'control:signed-out';

/** A user's presence changes (ephemeral: no seq, no log; see SharedPresenceStore). */
export function presenceStream(userId: string): `presence:${string}` {
  return `presence:${userId}`;
}
