import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, type Relation } from 'typeorm';
import { Message } from './message.entity.js';
import { User } from './user.entity.js';

/**
 * A member mentioned as @username in a message. The row is written the first time the mention resolves (at send or
 * at an edit that adds it) and is what notified the user, once; an edit that drops the mention sets `active`
 * false (Message.mentions and mentionCount stop counting it) and one that brings it back sets it true again
 * without a second notification.
 */
@Entity({ name: 'message_mentions' })
@Index('message_mentions_user_room_seq_idx', ['userId', 'roomId', 'seq'])
export class MessageMention {
  @PrimaryColumn({ name: 'message_id', type: 'uuid' })
  messageId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;

  /** The message's room and seq, copied so unread mentions are counted from this table alone. */
  @Column({ name: 'room_id', type: 'uuid' })
  roomId: string;

  @Column({ type: 'integer' })
  seq: number;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @ManyToOne(() => Message, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'message_id' })
  message?: Relation<Message>;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: Relation<User>;
}
