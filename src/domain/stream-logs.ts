import type { DataSource } from 'typeorm';
import { latestRoomSeqs, latestUserEventSeqs } from '../db/queries/stream-positions.js';
import { isUuid } from '../db/ids.js';
import type { StreamLogs } from '../realtime/bus/stream-logs.js';
import { roomStream, userStream } from '../realtime/stream-keys.js';
import type { PersistedRoomEvent } from './room-events.js';
import { readRoomEventsAfter } from './room-log.js';
import type { PersistedUserEvent } from './user-events.js';
import { readUserEventsAfter } from './user-log.js';

/** The two logs behind stream keys: a room's events (`room:<id>`) and a user's own events (`user:<id>`). */
export function streamLogs(db: DataSource): StreamLogs<PersistedRoomEvent | PersistedUserEvent> {
  const parse = (stream: string): { kind: 'room' | 'user'; id: string } | undefined => {
    const match = /^(room|user):(.+)$/.exec(stream);
    return match && isUuid(match[2]!) ? { kind: match[1] as 'room' | 'user', id: match[2]! } : undefined;
  };
  return {
    has: (stream) => parse(stream) !== undefined,
    async readAfter(stream, afterSeq, limit) {
      const key = parse(stream);
      if (!key) return [];
      return key.kind === 'room' ? readRoomEventsAfter(db.manager, key.id, afterSeq, limit) : readUserEventsAfter(db.manager, key.id, afterSeq, limit);
    },
    async latestSeqs(streams) {
      const rooms: string[] = [];
      const users: string[] = [];
      for (const stream of streams) {
        const key = parse(stream);
        if (key) (key.kind === 'room' ? rooms : users).push(key.id);
      }
      const [roomSeqs, userSeqs] = await Promise.all([latestRoomSeqs(db.manager, rooms), latestUserEventSeqs(db.manager, users)]);
      const latest = new Map<string, number>();
      for (const [id, seq] of roomSeqs) latest.set(roomStream(id), seq);
      for (const [id, seq] of userSeqs) latest.set(userStream(id), seq);
      return latest;
    },
  };
}
