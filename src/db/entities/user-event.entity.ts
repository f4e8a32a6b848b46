import { Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { User } from './user.entity.js';

/** Every kind of persisted event of a user's own log (the inbox): what concerns that user personally. */
export const USER_EVENT_KINDS = ['MENTIONED', 'INVITED_TO_ROOM', 'JOINED_ROOM', 'REMOVED_FROM_ROOM'] as const;
export type UserEventKind = (typeof USER_EVENT_KINDS)[number];

/**
 * One entry of a user's event log, keyed by (user_id, seq). Seqs are gap-free per user and follow commit order
 * (taken from users.last_event_seq inside the transaction that made the change); `inbox(after)` replays this table.
 * Room traffic is not copied here: only what concerns the user personally.
 */
@Entity({ name: 'user_events' })
export class UserEventRecord {
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  @PrimaryColumn({ type: 'integer' })
  seq: number;

  @Column({ type: 'enum', enum: USER_EVENT_KINDS, enumName: 'user_event_kind' })
  kind: UserEventKind;

  /** The room the event is about (every kind has one). */
  @Column({ name: 'room_id', type: 'uuid' })
  roomId: string;

  /** Who caused it (the inviter, the remover, the author who mentioned); null for the user's own doing or a deleted account. */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  /** MENTIONED: the message. */
  @Column({ name: 'message_id', type: 'uuid', nullable: true })
  messageId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;
}
