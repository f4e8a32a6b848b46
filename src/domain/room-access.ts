import type { EntityManager } from 'typeorm';
import { loadRoomAccess, type RoomAccess } from '../db/queries/room-accesses.js';
import { ForbiddenError, NotFoundError } from './errors.js';
import type { Viewer } from './viewer.js';

/** Public rooms are visible to everyone signed in; others only to their members and invitees. */
export function isVisible(access: RoomAccess): boolean {
  return access.room.kind === 'PUBLIC' || access.role !== null || access.invited;
}

/** The room when the viewer may see it. @throws NotFoundError otherwise, exactly as for a missing room. */
export async function requireVisibleRoom(db: EntityManager, viewer: Viewer, roomId: string): Promise<RoomAccess> {
  return visibleOrFail(await loadRoomAccess(db, viewer, roomId));
}

/**
 * The room when the viewer is a member.
 * @throws NotFoundError when the viewer cannot see the room; ForbiddenError when it can but has not joined.
 */
export async function requireMembership(db: EntityManager, viewer: Viewer, roomId: string): Promise<RoomAccess> {
  return membershipOrFail(await loadRoomAccess(db, viewer, roomId));
}

/** As requireVisibleRoom, for an access already loaded. */
export function visibleOrFail(access: RoomAccess | null): RoomAccess {
  if (!access || !isVisible(access)) throw new NotFoundError('Room');
  return access;
}

/** As requireMembership, for an access already loaded. */
export function membershipOrFail(access: RoomAccess | null): RoomAccess {
  const visible = visibleOrFail(access);
  if (visible.role === null) throw new ForbiddenError('You are not a member of this room');
  return visible;
}
