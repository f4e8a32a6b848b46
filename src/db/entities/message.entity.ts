import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, type Relation } from 'typeorm';
import { Room } from './room.entity.js';
import { User } from './user.entity.js';

/**
 * A message. `seq` is the seq of its MESSAGE_ADDED event in the room's log, so messages of a room are ordered by it
 * (with gaps where other events sit); history pages by (room_id, seq). A deleted message keeps its row as a
 * tombstone with an empty body.
 */
@Entity({ name: 'messages' })
@Index('messages_room_id_seq_key', ['roomId', 'seq'], { unique: true })
@Index('messages_author_id_client_message_id_key', ['authorId', 'clientMessageId'], {
  unique: true,
  where: '"client_message_id" IS NOT NULL',
})
// GIN over parley_room_lexemes(room_id, search_vector): an expression index TypeORM cannot describe (migration MessageSearch).
@Index('messages_search_idx', { synchronize: false })
// The messages the search indexer has still to index, per room (migration AsyncSearchIndex).
@Index('messages_search_pending_idx', ['roomId'], { where: '"search_vector" IS NULL AND "deleted_at" IS NULL' })
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

  @Column({ name: 'reply_to_id', type: 'uuid', nullable: true })
  replyToId: string | null;

  @Column({ name: 'edited_at', type: 'timestamptz', nullable: true })
  editedAt: Date | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /**
   * The body's text-search vector (`to_tsvector('simple', parley_search_text(body))`, see
   * migrations/*-MessageSearch.ts); NULL until indexed. Sends leave it NULL and the search indexer or the first
   * search of the room fills it (db/queries/search-index.ts); an edit sets it with the new body, a deletion clears
   * it. Search reads it in SQL, so the entity never loads it.
   */
  @Column({ name: 'search_vector', type: 'tsvector', nullable: true, select: false, insert: false })
  searchVector?: string | null;

  @ManyToOne(() => Room, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'room_id' })
  room?: Relation<Room>;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'author_id' })
  author?: Relation<User>;

  @ManyToOne(() => Message, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'reply_to_id' })
  replyTo?: Relation<Message>;
}
