import type { EntityManager } from 'typeorm';
import type { UserEventRecord } from '../db/entities/user-event.entity.js';
import { insertUserEvent, readUserEventRecordsAfter, type UserEventRow } from '../db/queries/user-log.js';
import type { PersistedUserEvent } from './user-events.js';

/**
 * Appends an event to a user's log inside `tx`, at the user's next seq; returns the event to publish once `tx`
 * commits (to `UserEvents.publish(userId, event)`), or null for an unknown user. Several users in one
 * transaction: append in user id order (see insertUserEvent).
 */
export async function appendUserEvent(tx: EntityManager, userId: string, event: UserEventRow): Promise<PersistedUserEvent | null> {
  const record = await insertUserEvent(tx, userId, event);
  return record ? toPersistedUserEvent(record) : null;
}

/** Logged events of a user with seq > `afterSeq`, ascending, at most `limit`. */
export async function readUserEventsAfter(db: EntityManager, userId: string, afterSeq: number, limit: number): Promise<PersistedUserEvent[]> {
  return (await readUserEventRecordsAfter(db, userId, afterSeq, limit)).map(toPersistedUserEvent);
}

export function toPersistedUserEvent(record: UserEventRecord): PersistedUserEvent {
  return {
    kind: record.kind,
    userId: record.userId,
    seq: record.seq,
    at: record.createdAt,
    roomId: record.roomId,
    actorId: record.actorId,
    messageId: record.messageId,
  };
}
