import type { UserEventRow } from '../db/queries/user-log.js';
import type { PersistedRoomEvent } from './room-events.js';

/**
 * The event a membership change of a room puts in its target's own log (the inbox), if any: an invitation, a join
 * (also the user's own, so their other devices hear of it), a departure or a removal. The actor is who caused it,
 * or null when the target did it themselves.
 */
export function userEventOfRoomEvent(event: PersistedRoomEvent): { userId: string; event: UserEventRow } | null {
  const userId = event.targetUserId;
  if (!userId) return null;
  const actorId = event.actorId === userId ? null : event.actorId;
  const row = (kind: UserEventRow['kind']) => ({ userId, event: { kind, roomId: event.roomId, actorId } });
  switch (event.kind) {
    case 'MEMBER_INVITED':
      return row('INVITED_TO_ROOM');
    case 'MEMBER_JOINED':
      return row('JOINED_ROOM');
    case 'MEMBER_LEFT':
    case 'MEMBER_REMOVED':
      return row('REMOVED_FROM_ROOM');
    default:
      return null;
  }
}
