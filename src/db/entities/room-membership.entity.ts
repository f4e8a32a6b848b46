import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Room } from './room.entity.js';
import { User } from './user.entity.js';

export const MEMBERSHIP_ROLES = ['OWNER', 'MEMBER'] as const;
export type MembershipRole = (typeof MEMBERSHIP_ROLES)[number];

/** A user's membership of a room; the row's existence is the membership. */
@Entity({ name: 'room_memberships' })
@Index('room_memberships_user_id_idx', ['userId'])
export class RoomMembership {
  @PrimaryColumn({ name: 'room_id', type: 'uuid' })
  roomId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @Column({ type: 'enum', enum: MEMBERSHIP_ROLES, enumName: 'membership_role', default: 'MEMBER' })
  role: MembershipRole;

  @CreateDateColumn({ name: 'joined_at', type: 'timestamptz' })
  joinedAt: Date;

  /** Seq of the MEMBER_JOINED event that began this membership (0 for the room's creator). */
  @Column({ name: 'joined_seq', type: 'integer', default: 0 })
  joinedSeq: number;

  /** The member's read position; it never moves backwards. */
  @Column({ name: 'last_read_seq', type: 'integer', default: 0 })
  lastReadSeq: number;

  /**
   * DIRECT rooms: set by `hideRoom` to the room's lastSeq then; the room is hidden from `rooms` until a message
   * with a later seq arrives (checked when listing, so sends pay nothing for it).
   */
  @Column({ name: 'hidden_seq', type: 'integer', nullable: true })
  hiddenSeq: number | null;

  @ManyToOne(() => Room, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'room_id' })
  room?: Relation<Room>;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;
}
