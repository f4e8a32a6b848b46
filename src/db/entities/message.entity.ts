import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Room } from './room.entity.js';
import { User } from './user.entity.js';

/** A message. `seq` numbers a room's messages 1, 2, 3, ... in commit order; history pages by (room_id, seq). */
@Entity({ name: 'messages' })
@Index('messages_room_id_seq_key', ['roomId', 'seq'], { unique: true })
@Index('messages_author_id_client_message_id_key', ['authorId', 'clientMessageId'], {
  unique: true,
  where: '"client_message_id" IS NOT NULL',
})
export class Message {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'room_id', type: 'uuid' })
  roomId: string;

  @Column({ name: 'author_id', type: 'uuid' })
  authorId: string;

  @Column({ type: 'integer' })
  seq: number;

  @Column({ type: 'text' })
  body: string;

  @Column({ name: 'client_message_id', type: 'varchar', length: 64, nullable: true })
  clientMessageId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @ManyToOne(() => Room, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'room_id' })
  room?: Relation<Room>;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'author_id' })
  author?: Relation<User>;
}
