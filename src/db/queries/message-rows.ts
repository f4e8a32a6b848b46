import { Message } from '../entities/message.entity.js';

/** A message as raw SQL returns it (the columns of MESSAGE_COLUMNS). */
export interface MessageRow {
  id: string;
  room_id: string;
  author_id: string;
  seq: number;
  body: string;
  client_message_id: string | null;
  reply_to_id: string | null;
  edited_at: Date | null;
  deleted_at: Date | null;
  created_at: Date;
}

/** The columns of a message row, for statements that return messages. */
export const MESSAGE_COLUMNS = 'id, room_id, author_id, seq, body, client_message_id, reply_to_id, edited_at, deleted_at, created_at';

/** The entity of a raw message row. */
export function messageFromRow(row: MessageRow): Message {
  return Object.assign(new Message(), {
    id: row.id,
    roomId: row.room_id,
    authorId: row.author_id,
    seq: row.seq,
    body: row.body,
    clientMessageId: row.client_message_id,
    replyToId: row.reply_to_id,
    editedAt: row.edited_at,
    deletedAt: row.deleted_at,
    createdAt: row.created_at,
  });
}
