import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { User } from './user.entity.js';

export const ROOM_KINDS = ['PUBLIC', 'PRIVATE', 'DIRECT'] as const;
export type RoomKind = (typeof ROOM_KINDS)[number];

/**
 * A chat room. `lastSeq` is the seq of its latest logged event; the row lock on it orders concurrent writers.
 * A DIRECT room names its two participants in id order (the same user twice for a note to oneself); the pair is
 * unique, so concurrent opens of one pair create one room.
 */
@Entity({ name: 'rooms' })
@Check('rooms_direct_pair_check', `("kind" = 'DIRECT') = ("direct_user_low_id" IS NOT NULL AND "direct_user_high_id" IS NOT NULL) AND "direct_user_low_id" <= "direct_user_high_id"`)
@Index('rooms_direct_pair_key', ['directUserLowId', 'directUserHighId'], { unique: true })
@Index('rooms_directory_idx', { synchronize: false })
export class Room {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Column({ type: 'enum', enum: ROOM_KINDS, enumName: 'room_kind' })
  kind: RoomKind;

  @Column({ name: 'last_seq', type: 'integer', default: 0 })
  lastSeq: number;

  /** Members now; kept by a trigger on room_memberships, read by the directory and `Room.memberCount`. */
  @Column({ name: 'member_count', type: 'integer', default: 0 })
  memberCount: number;

  /** DIRECT rooms: the participant with the lower id. */
  @Column({ name: 'direct_user_low_id', type: 'uuid', nullable: true })
  directUserLowId: string | null;

  /** DIRECT rooms: the participant with the higher id (the same as the low one for a note to oneself). */
  @Column({ name: 'direct_user_high_id', type: 'uuid', nullable: true })
  directUserHighId: string | null;

  @Column({ name: 'created_by_id', type: 'uuid', nullable: true })
  createdById: string | null;

  @ManyToOne(() => User, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'created_by_id' })
  createdBy?: Relation<User>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
