import type { MembershipRole } from '../db/entities/room-membership.entity.js';

/** One entry of a room's member list. */
export interface RoomMember {
  readonly roomId: string;
  readonly userId: string;
  readonly role: MembershipRole;
  readonly joinedAt: Date;
}
