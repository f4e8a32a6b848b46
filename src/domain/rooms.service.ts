import type { DataSource } from 'typeorm';
import { RoomInvitation } from '../db/entities/room-invitation.entity.js';
import { RoomMembership } from '../db/entities/room-membership.entity.js';
import { Room, type RoomKind } from '../db/entities/room.entity.js';
import { BadUserInputError, ForbiddenError, NotFoundError } from './errors.js';
import { isUuid } from '../db/ids.js';
import type { RateLimits } from './rate-limits.js';
import { requireStorableText } from './storable-text.js';
import { loadRoomAccess, loadRoomAccesses, type RoomAccess } from '../db/queries/room-accesses.js';
import { isVisible } from './room-access.js';
import { RoomChanges } from './room-changes.js';
import { passOwnership } from './room-ownership.js';
import { shownInRoomList } from '../db/queries/direct-rooms.js';
import type { RoomEvents } from './room-events.js';
import type { UserEvents } from './user-events.js';
import { appendUserEvent } from './user-log.js';
import type { Viewer } from './viewer.js';

const NAME_MAX = 100;

/** Rooms, memberships and invitations, with who may see and do what. Membership changes are logged. */
export class RoomsService {
  private readonly changes: RoomChanges;

  constructor(
    private readonly db: DataSource,
    events: RoomEvents,
    private readonly limits: RateLimits,
    private readonly userEvents: UserEvents,
  ) {
    this.changes = new RoomChanges(db, events, userEvents);
  }

  /**
   * Creates a room owned by the viewer, who becomes its first member.
   * @throws BadUserInputError for a name outside 1-100 characters after trimming, or kind DIRECT (openDirectRoom).
   */
  async create(viewer: Viewer, rawName: string, kind: RoomKind, clientAddress: string): Promise<Room> {
    await this.limits.createRoom(clientAddress);
    const name = validRoomName(rawName);
    if (kind === 'DIRECT') throw new BadUserInputError('Open a DIRECT room with openDirectRoom', 'kind');
    const { room, joined } = await this.db.transaction(async (tx) => {
      const created = await tx.save(tx.create(Room, { name, kind, createdById: viewer.id, lastSeq: 0 }));
      await tx.insert(RoomMembership, { roomId: created.id, userId: viewer.id, role: 'OWNER', joinedSeq: 0 });
      created.memberCount = 1; // counted by the room_memberships trigger
      // The creator's other devices learn of the room from the inbox.
      return { room: created, joined: await appendUserEvent(tx, viewer.id, { kind: 'JOINED_ROOM', roomId: created.id, actorId: null }) };
    });
    if (joined) this.userEvents.publish(viewer.id, joined);
    return room;
  }

  /** The rooms the viewer may see now, by id (absent: missing or not visible to them). One statement. */
  async visibleByIds(viewer: Viewer, roomIds: readonly string[]): Promise<Map<string, Room>> {
    const accesses = await loadRoomAccesses(this.db.manager, roomIds.map((roomId) => ({ viewerId: viewer.id, roomId })));
    return new Map(accesses.flatMap((access) => (access && isVisible(access) ? [[access.room.id, access.room] as const] : [])));
  }

  /** The room when the viewer may see it, otherwise null (whether or not it exists). */
  async findVisible(viewer: Viewer, roomId: string): Promise<Room | null> {
    const access = await loadRoomAccess(this.db.manager, viewer, roomId);
    return access && isVisible(access) ? access.room : null;
  }

  /**
   * The viewer's rooms, oldest membership first; without `includeHidden`, not the direct rooms the viewer hid
   * (hideRoom) that had no message since.
   */
  listJoined(viewer: Viewer, includeHidden = false): Promise<Room[]> {
    const query = this.db
      .createQueryBuilder(Room, 'room')
      .innerJoin(RoomMembership, 'membership', 'membership.room_id = room.id')
      .where('membership.user_id = :userId', { userId: viewer.id });
    if (!includeHidden) query.andWhere(shownInRoomList('membership', 'room.id'));
    return query
      .orderBy('membership.joined_at', 'ASC')
      .addOrderBy('room.id', 'ASC')
      .getMany();
  }

  /** Rooms the viewer was invited to and has not joined (and can still join: not closed), newest invitation first. */
  listInvitations(viewer: Viewer): Promise<Room[]> {
    return this.db
      .createQueryBuilder(Room, 'room')
      .innerJoin(RoomInvitation, 'invitation', 'invitation.room_id = room.id')
      .where('invitation.user_id = :userId AND room.member_count > 0', { userId: viewer.id })
      .orderBy('invitation.created_at', 'DESC')
      .getMany();
  }

  /**
   * Joins a public room, or a private room the viewer was invited to (using up the invitation). Idempotent: only
   * the first join is logged.
   * @throws NotFoundError when the viewer cannot see the room or was not invited to it, and for a closed room (its
   *   last member left; nobody owns it to let anyone in).
   */
  join(viewer: Viewer, roomId: string): Promise<Room> {
    return this.changes.inRoom(viewer, roomId, async ({ tx, access, append }) => {
      if (access.role !== null) return access.room;
      if (access.room.kind !== 'PUBLIC' && !access.invited) throw new NotFoundError('Room');
      if (access.room.memberCount === 0) throw new NotFoundError('Room');
      const event = await append({ kind: 'MEMBER_JOINED', actorId: viewer.id, targetUserId: viewer.id });
      await tx.insert(RoomMembership, { roomId, userId: viewer.id, role: 'MEMBER', joinedSeq: event.seq });
      await tx.delete(RoomInvitation, { roomId, userId: viewer.id });
      access.room.memberCount += 1;
      return access.room;
    });
  }

  /**
   * Ends the viewer's membership; their subscriptions to the room end. Returns false when not a member. An owner's
   * ownership passes to the longest-standing member; the last member leaving closes the room.
   * @throws NotFoundError when the viewer cannot see the room; BadUserInputError for a DIRECT room (hideRoom).
   */
  leave(viewer: Viewer, roomId: string): Promise<boolean> {
    return this.changes.inRoom(viewer, roomId, async ({ tx, access, append }) => {
      if (access.room.kind === 'DIRECT') throw notForDirectRooms('left: hide it with hideRoom');
      if (access.role === null) return false;
      await tx.delete(RoomMembership, { roomId, userId: viewer.id });
      if (access.role === 'OWNER') await passOwnership(tx, roomId, viewer.id);
      await append({ kind: 'MEMBER_LEFT', actorId: viewer.id, targetUserId: viewer.id });
      return true;
    });
  }

  /**
   * Invites a user to a room the viewer is a member of; a no-op when they are already a member or invited.
   * @throws NotFoundError for a room the viewer cannot see, an unknown user, and one who blocked the viewer (the
   *   same error: an invitation would reach their inbox); ForbiddenError for a non-member.
   */
  invite(viewer: Viewer, roomId: string, userId: string): Promise<Room> {
    return this.changes.inRoom(viewer, roomId, async ({ tx, access, append }) => {
      requireMember(access);
      if (access.room.kind === 'DIRECT') throw notForDirectRooms('joined by invitation');
      if (!isUuid(userId)) throw new NotFoundError('User');
      // One statement: invite unless already a member or blocked by them; an unknown user, or one who blocked the
      // viewer, inserts nothing and is reported below.
      const inserted: unknown[] = await tx.query(
        `INSERT INTO room_invitations (room_id, user_id, invited_by_id)
         SELECT $1, u.id, $3 FROM users u
         WHERE u.id = $2 AND u.deleted_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM room_memberships m WHERE m.room_id = $1 AND m.user_id = u.id)
           AND NOT EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = u.id AND b.blocked_id = $3)
         ON CONFLICT DO NOTHING
         RETURNING user_id`,
        [roomId, userId, viewer.id],
      );
      if (inserted.length > 0) await append({ kind: 'MEMBER_INVITED', actorId: viewer.id, targetUserId: userId });
      else {
        const [invitee]: { blocked: boolean }[] = await tx.query(
          'SELECT EXISTS (SELECT 1 FROM user_blocks b WHERE b.blocker_id = u.id AND b.blocked_id = $2) AS blocked FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL',
          [userId, viewer.id],
        );
        if (!invitee || invitee.blocked) throw new NotFoundError('User');
      }
      return access.room;
    });
  }

  /**
   * Renames a room (owner only); renaming to the current name changes nothing.
   * @throws NotFoundError for a room the viewer cannot see; ForbiddenError for anyone but the owner;
   *   BadUserInputError for a bad name.
   */
  async rename(viewer: Viewer, roomId: string, rawName: string): Promise<Room> {
    const name = validRoomName(rawName);
    return this.changes.inRoom(viewer, roomId, async ({ tx, access, append }) => {
      if (access.room.kind === 'DIRECT') throw notForDirectRooms('renamed');
      requireOwner(access, 'rename');
      if (access.room.name === name) return access.room;
      await tx.update(Room, { id: roomId }, { name });
      access.room.name = name;
      await append({ kind: 'ROOM_RENAMED', actorId: viewer.id, data: { name } });
      return access.room;
    });
  }

  /**
   * Removes another member (owner only); their subscriptions to the room end at once. Returns false when the
   * user was not a member.
   * @throws NotFoundError for a room the viewer cannot see; ForbiddenError for anyone but the owner;
   *   BadUserInputError for removing oneself (leaveRoom does that).
   */
  removeMember(viewer: Viewer, roomId: string, userId: string): Promise<boolean> {
    return this.changes.inRoom(viewer, roomId, async ({ tx, access, append }) => {
      if (access.room.kind === 'DIRECT') throw notForDirectRooms('changed: nobody can be removed from one');
      requireOwner(access, 'remove members');
      if (userId === viewer.id) throw new BadUserInputError('Use leaveRoom to leave a room you own', 'userId');
      if (!isUuid(userId)) return false;
      const removed = await tx.delete(RoomMembership, { roomId, userId });
      if ((removed.affected ?? 0) === 0) return false;
      await append({ kind: 'MEMBER_REMOVED', actorId: viewer.id, targetUserId: userId });
      return true;
    });
  }

  /** Rooms by id, in no particular order; for DataLoader batches (callers already checked access). */
  findByIds(ids: readonly string[]): Promise<Room[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return Promise.resolve([]);
    return this.db.createQueryBuilder(Room, 'room').where('room.id = ANY(:ids)', { ids: valid }).getMany();
  }
}

function validRoomName(rawName: string): string {
  requireStorableText(rawName, 'name');
  const name = rawName.trim();
  const length = [...name].length;
  if (length < 1 || length > NAME_MAX) {
    throw new BadUserInputError(`Room name must be 1 to ${NAME_MAX} characters after trimming`, 'name');
  }
  return name;
}

function notForDirectRooms(what: string): BadUserInputError {
  return new BadUserInputError(`A DIRECT room cannot be ${what}`, 'roomId');
}

function requireMember(access: RoomAccess): void {
  if (access.role === null) throw new ForbiddenError('You are not a member of this room');
}

function requireOwner(access: RoomAccess, action: string): void {
  requireMember(access);
  if (access.role !== 'OWNER') throw new ForbiddenError(`Only the room owner can ${action}`);
}
