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
