import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Message } from './message.entity.js';
import { Room } from './room.entity.js';

/** Every kind of persisted change to a room; each is appended to the room's log with the room's next seq. */
export const ROOM_EVENT_KINDS = [
  'MESSAGE_ADDED',
  'MESSAGE_EDITED',
  'MESSAGE_DELETED',
  'REACTION_ADDED',
  'REACTION_REMOVED',
  'MEMBER_JOINED',
  'MEMBER_LEFT',
  'MEMBER_INVITED',
  'MEMBER_REMOVED',
  'ROOM_RENAMED',
] as const;
export type RoomEventKind = (typeof ROOM_EVENT_KINDS)[number];

/** Facts an event needs beyond its columns; never message text, which must be deletable. */
export interface RoomEventData {
  /** REACTION_ADDED / REACTION_REMOVED. */
  emoji?: string;
  /** ROOM_RENAMED: the new name. */
  name?: string;
}

/**
 * One entry of a room's event log, keyed by (room_id, seq). Seqs are gap-free per room and follow commit order;
 * resuming a subscription replays this table.
 */
@Entity({ name: 'room_events' })
@Index('room_events_message_id_idx', ['messageId'])
export class RoomEventRecord {
  @PrimaryColumn({ name: 'room_id', type: 'uuid' })
  roomId: string;

  @PrimaryColumn({ type: 'integer' })
  seq: number;

  @Column({ type: 'enum', enum: ROOM_EVENT_KINDS, enumName: 'room_event_kind' })
  kind: RoomEventKind;

  /** Who made the change; null when the account was deleted since. */
  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ name: 'message_id', type: 'uuid', nullable: true })
  messageId: string | null;

  /** The member the change is about (joined, left, invited, removed). */
  @Column({ name: 'target_user_id', type: 'uuid', nullable: true })
  targetUserId: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  data: RoomEventData;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @ManyToOne(() => Room, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'room_id' })
  room?: Relation<Room>;

  @ManyToOne(() => Message, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'message_id' })
  message?: Relation<Message>;
}
