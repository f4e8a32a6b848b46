import type { DataSource } from 'typeorm';
import { RoomInvitation } from '../db/entities/room-invitation.entity.js';
import { RoomMembership } from '../db/entities/room-membership.entity.js';
import { Room, type RoomKind } from '../db/entities/room.entity.js';
import { BadUserInputError, NotFoundError } from './errors.js';
import { isUuid } from './ids.js';
import { loadRoomAccess, requireMembership, requireVisibleRoom, isVisible } from './room-access.js';
import type { Viewer } from './viewer.js';

const NAME_MAX = 100;

/** Rooms, memberships and invitations, with who may see and do what. */
export class RoomsService {
  constructor(private readonly db: DataSource) {}

  /**
   * Creates a room owned by the viewer, who becomes its first member.
   * @throws BadUserInputError for a name outside 1-100 characters after trimming, or kind DIRECT.
   */
  async create(viewer: Viewer, rawName: string, kind: RoomKind): Promise<Room> {
    const name = rawName.trim();
    const length = [...name].length;
    if (length < 1 || length > NAME_MAX) {
      throw new BadUserInputError(`Room name must be 1 to ${NAME_MAX} characters after trimming`, 'name');
    }
    if (kind === 'DIRECT') throw new BadUserInputError('DIRECT rooms cannot be created yet', 'kind');
    return this.db.transaction(async (tx) => {
      const room = await tx.save(tx.create(Room, { name, kind, createdById: viewer.id, lastSeq: 0 }));
      await tx.insert(RoomMembership, { roomId: room.id, userId: viewer.id, role: 'OWNER' });
      return room;
    });
  }

  /** The room when the viewer may see it, otherwise null (whether or not it exists). */
  async findVisible(viewer: Viewer, roomId: string): Promise<Room | null> {
    const access = await loadRoomAccess(this.db.manager, viewer, roomId);
    return access && isVisible(access) ? access.room : null;
  }

  /** The viewer's rooms, oldest membership first. */
  listJoined(viewer: Viewer): Promise<Room[]> {
    return this.db
      .createQueryBuilder(Room, 'room')
      .innerJoin(RoomMembership, 'membership', 'membership.room_id = room.id')
      .where('membership.user_id = :userId', { userId: viewer.id })
      .orderBy('membership.joined_at', 'ASC')
      .addOrderBy('room.id', 'ASC')
      .getMany();
  }

  /** Rooms the viewer was invited to and has not joined, newest invitation first. */
  listInvitations(viewer: Viewer): Promise<Room[]> {
    return this.db
      .createQueryBuilder(Room, 'room')
      .innerJoin(RoomInvitation, 'invitation', 'invitation.room_id = room.id')
      .where('invitation.user_id = :userId', { userId: viewer.id })
      .orderBy('invitation.created_at', 'DESC')
      .getMany();
  }

  /**
   * Joins a public room, or a private room the viewer was invited to (using up the invitation). Idempotent.
   * @throws NotFoundError when the viewer cannot see the room or was not invited to it.
   */
  join(viewer: Viewer, roomId: string): Promise<Room> {
    return this.db.transaction(async (tx) => {
      const access = await requireVisibleRoom(tx, viewer, roomId);
      if (access.role !== null) return access.room;
      if (access.room.kind !== 'PUBLIC' && !access.invited) throw new NotFoundError('Room');
      await tx
        .createQueryBuilder()
        .insert()
        .into(RoomMembership)
        .values({ roomId, userId: viewer.id, role: 'MEMBER' })
        .orIgnore()
        .execute();
      await tx.delete(RoomInvitation, { roomId, userId: viewer.id });
      return access.room;
    });
  }

  /**
   * Ends the viewer's membership. Returns false when the viewer was not a member.
   * @throws NotFoundError when the viewer cannot see the room.
   */
  async leave(viewer: Viewer, roomId: string): Promise<boolean> {
    await requireVisibleRoom(this.db.manager, viewer, roomId);
    const result = await this.db.manager.delete(RoomMembership, { roomId, userId: viewer.id });
    return (result.affected ?? 0) > 0;
  }

  /**
   * Invites a user to a room the viewer is a member of; a no-op when they are already a member or invited.
   * @throws NotFoundError for a room the viewer cannot see or an unknown user; ForbiddenError for a non-member.
   */
  async invite(viewer: Viewer, roomId: string, userId: string): Promise<Room> {
    const { room } = await requireMembership(this.db.manager, viewer, roomId);
    if (!isUuid(userId)) throw new NotFoundError('User');
    // One statement: invite unless already a member; an unknown user inserts nothing and is reported below.
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO room_invitations (room_id, user_id, invited_by_id)
       SELECT $1, u.id, $3 FROM users u
       WHERE u.id = $2
         AND NOT EXISTS (SELECT 1 FROM room_memberships m WHERE m.room_id = $1 AND m.user_id = u.id)
       ON CONFLICT DO NOTHING
       RETURNING user_id`,
      [roomId, userId, viewer.id],
    );
    if (inserted.length === 0) {
      const exists = await this.db.query('SELECT 1 FROM users WHERE id = $1', [userId]);
      if (exists.length === 0) throw new NotFoundError('User');
    }
    return room;
  }

  /** Rooms by id, in no particular order; for DataLoader batches (callers already checked access). */
  findByIds(ids: readonly string[]): Promise<Room[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return Promise.resolve([]);
    return this.db.createQueryBuilder(Room, 'room').where('room.id = ANY(:ids)', { ids: valid }).getMany();
  }
}
