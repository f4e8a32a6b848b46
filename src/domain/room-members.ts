import type { DataSource } from 'typeorm';
import type { MembershipRole } from '../db/entities/room-membership.entity.js';
import type { Room } from '../db/entities/room.entity.js';
import { isUuid } from '../db/ids.js';
import { listRoomMembers, memberRoomIds } from '../db/queries/room-members.js';
import { PageCursors, type ForwardPageArgs, type KeyedPage } from './page-cursor.js';
import type { Viewer } from './viewer.js';

/** One entry of a room's member list. */
export interface RoomMember {
  readonly roomId: string;
  readonly userId: string;
  readonly role: MembershipRole;
  readonly joinedAt: Date;
}

const cursors = new PageCursors<readonly [number, string, string]>('members', ['n', 's', 'u'], { default: 50, max: 100 });

/** Who is in a room. */
export class RoomMembersService {
  constructor(private readonly db: DataSource) {}

  /**
   * A page of the member list, owner first, then by username. The caller passes a room the viewer can see (every
   * Room the API hands out was checked so: history and events for members, `room`, `rooms` and the directory).
   * @throws BadUserInputError for bad paging arguments.
   */
  async list(room: Room, args: ForwardPageArgs): Promise<KeyedPage<RoomMember>> {
    const page = cursors.page(args);
    const rows = page.size === 0 ? [] : await listRoomMembers(this.db.manager, room.id, { after: page.after, limit: page.size + 1 });
    return cursors.toPage(page, rows, (row) => [row.rank, row.usernameKey, row.userId] as const, (row) => ({
      roomId: room.id,
      userId: row.userId,
      role: row.role,
      joinedAt: row.joinedAt,
    }));
  }

  /** Of `roomIds`, those the viewer is a member of; for DataLoader batches. */
  memberOf(viewer: Viewer, roomIds: readonly string[]): Promise<Set<string>> {
    const valid = roomIds.filter(isUuid);
    return valid.length === 0 ? Promise.resolve(new Set()) : memberRoomIds(this.db.manager, viewer.id, valid);
  }
}
