import type { DataSource } from 'typeorm';
import type { Room } from '../db/entities/room.entity.js';
import { isUuid } from '../db/ids.js';
import { findDirectPeer, findDirectRoomId, hideForMember, insertDirectRoom, unhideForMember } from '../db/queries/direct-rooms.js';
import { loadRoomAccess } from '../db/queries/room-accesses.js';
import { BadUserInputError, NotFoundError } from './errors.js';
import type { RateLimits } from './rate-limits.js';
import { requireMembership } from './room-access.js';
import type { Viewer } from './viewer.js';
import type { PersistedUserEvent, UserEvents } from './user-events.js';
import { appendUserEvent } from './user-log.js';

/**
 * Direct messages as ordinary rooms of kind DIRECT, so they keep every guarantee of the room stream. A pair of users
 * has exactly one (rooms_direct_pair_key); both are members from the start and nobody else ever is.
 */
export class DirectRoomsService {
  constructor(
    private readonly db: DataSource,
    private readonly limits: RateLimits,
    private readonly userEvents: UserEvents,
  ) {}

  /**
   * The direct room of the viewer and `userId` (the viewer's own id: a note-to-self room), created on first use;
   * opening it shows it again in the viewer's `rooms` if it was hidden. The other participant sees it in `rooms`
   * from its first message on. Counted against the directory's rate limit (it tells whether a user exists).
   * @throws NotFoundError for no such live account, and for one who blocked the viewer (the same error);
   *   RateLimitedError.
   */
  async open(viewer: Viewer, userId: string): Promise<Room> {
    await this.limits.directory(viewer.id);
    if (!isUuid(userId)) throw new NotFoundError('User');
    const peer = userId === viewer.id ? { id: viewer.id, username: viewer.username, blockedAsker: false } : await findDirectPeer(this.db.manager, viewer.id, userId);
    if (!peer || peer.blockedAsker) throw new NotFoundError('User');
    const [lowId, highId] = viewer.id < peer.id ? [viewer.id, peer.id] : [peer.id, viewer.id];
    let roomId = await findDirectRoomId(this.db.manager, lowId, highId);
    if (!roomId) {
      const name = viewer.id === peer.id ? viewer.username : [viewer.username, peer.username].sort().join(', ');
      const joined: PersistedUserEvent[] = [];
      roomId = await this.db.transaction(async (tx) => {
        const created = await insertDirectRoom(tx, { lowId, highId, name, createdById: viewer.id });
        // Both participants' inboxes hear of it (the opener's other devices too); ids in order, as appends require.
        for (const userId of created ? new Set([lowId, highId]) : []) {
          const event = await appendUserEvent(tx, userId, { kind: 'JOINED_ROOM', roomId: created!, actorId: userId === viewer.id ? null : viewer.id });
          if (event) joined.push(event);
        }
        return created;
      });
      for (const event of joined) this.userEvents.publish(event.userId, event);
      roomId ??= await findDirectRoomId(this.db.manager, lowId, highId); // a concurrent open created it
      if (!roomId) throw new Error(`direct room of ${lowId} and ${highId} neither created nor found`);
    } else {
      await unhideForMember(this.db.manager, roomId, viewer.id);
    }
    const access = await loadRoomAccess(this.db.manager, viewer, roomId);
    if (!access) throw new Error(`direct room ${roomId} vanished`);
    return access.room;
  }

  /**
   * Takes a direct room off the viewer's `rooms` until its next message; false when it was hidden already.
   * @throws NotFoundError / ForbiddenError as for other room operations; BadUserInputError for other kinds of room.
   */
  async hide(viewer: Viewer, roomId: string): Promise<boolean> {
    const { room } = await requireMembership(this.db.manager, viewer, roomId);
    if (room.kind !== 'DIRECT') throw new BadUserInputError('Only DIRECT rooms can be hidden: leave other rooms with leaveRoom', 'roomId');
    return hideForMember(this.db.manager, roomId, viewer.id);
  }
}

/** The other participant of a direct room for `viewerId` (the viewer for a note-to-self room); null for other kinds. */
export function directPeerId(room: Room, viewerId: string): string | null {
  if (room.kind !== 'DIRECT' || !room.directUserLowId || !room.directUserHighId) return null;
  return room.directUserLowId === viewerId ? room.directUserHighId : room.directUserLowId;
}
