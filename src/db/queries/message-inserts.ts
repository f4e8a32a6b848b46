import type { EntityManager } from 'typeorm';
import type { Message } from '../entities/message.entity.js';
import { MESSAGE_COLUMNS, messageFromRow, type MessageRow } from './message-rows.js';
import { queryRows } from '../query-rows.js';

/** A message to store; `roomId` must be a UUID. */
export interface NewMessage {
  roomId: string;
  authorId: string;
  body: string;
  clientMessageId: string | null;
  replyToId: string | null;
}


/**
 * When the author is a member of the room: takes the room's next seq, stores the message under it and logs its
 * MESSAGE_ADDED event, all in one statement (one round trip, one implicit transaction). The UPDATE's row lock on
 * the room orders concurrent senders, so seqs follow commit order with no gaps; a failure (such as a duplicate
 * clientMessageId) rolls all three back. Null, with nothing stored, when the author is not a member or the room
 * does not exist. (The statement's own check reads the snapshot taken when it started; a removal that committed
 * while it waited for the room's lock is caught by the messages_author_is_member trigger, which checks again.)
 * With `db` bound to a transaction it runs in that transaction, whose room lock then holds until it ends; a null
 * there may have aborted it (the trigger's refusal), so roll it back.
 */
export async function insertMessageOfMember(db: EntityManager, input: NewMessage): Promise<Message | null> {
  let rows: MessageRow[];
  try {
    rows = await queryRows<MessageRow>(
      db,
      `WITH next AS (
         UPDATE rooms SET last_seq = last_seq + 1
         WHERE id = $1 AND EXISTS (SELECT 1 FROM room_memberships WHERE room_id = $1 AND user_id = $2)
         RETURNING last_seq
       ), message AS (
         INSERT INTO messages (room_id, author_id, seq, body, client_message_id, reply_to_id)
         SELECT $1, $2, next.last_seq, $3, $4, $5 FROM next
         RETURNING ${MESSAGE_COLUMNS}
       ), event AS (
         INSERT INTO room_events (room_id, seq, kind, actor_id, message_id)
         SELECT room_id, seq, 'MESSAGE_ADDED', author_id, id FROM message
       )
       SELECT * FROM message`,
      [input.roomId, input.authorId, input.body, input.clientMessageId, input.replyToId],
      { prepareAs: 'parley_insert_message' },
    );
  } catch (error) {
    if (isAuthorNotMember(error)) return null;
    throw error;
  }
  const row = rows[0];
  return row ? messageFromRow(row) : null;
}

/**
 * Group commit: stores many messages, in any rooms, in one statement, as insertMessageOfMember would one by one in
 * the given order (messages to the same room take consecutive seqs in that order). Rooms are locked in id order,
 * so concurrent batches cannot deadlock. Null for each message whose author is not a member, or whose DIRECT
 * room's other participant blocked the author or was deleted (the caller then learns why by storing it alone). One
 * transaction: a failure stores none of them (as when a removal committed while it waited: see insertMessageOfMember).
 */
export async function insertMessagesOfMembers(db: EntityManager, inputs: readonly NewMessage[]): Promise<(Message | null)[]> {
  const rows = await queryRows<MessageRow & { ord: string }>(
    db,
    `WITH input AS (
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[])
         WITH ORDINALITY AS t(room_id, author_id, body, client_message_id, reply_to_id, ord)
     ), allowed AS (
       SELECT i.* FROM input i
       WHERE EXISTS (SELECT 1 FROM room_memberships m WHERE m.room_id = i.room_id AND m.user_id = i.author_id)
         -- What the insert trigger refuses in a DIRECT room, left out here so that it cannot fail the whole batch.
         AND NOT parley_direct_peer_refuses(i.room_id, i.author_id)
     ), locked AS (
       SELECT r.id FROM rooms r WHERE r.id IN (SELECT room_id FROM allowed) ORDER BY r.id FOR UPDATE
     ), next AS (
       UPDATE rooms r SET last_seq = r.last_seq + c.n
       FROM (SELECT a.room_id, count(*)::int AS n FROM allowed a JOIN locked l ON l.id = a.room_id GROUP BY a.room_id) c
       WHERE r.id = c.room_id
       RETURNING r.id, r.last_seq - c.n AS base
     ), numbered AS (
       SELECT a.*, (n.base + row_number() OVER (PARTITION BY a.room_id ORDER BY a.ord))::int AS seq
       FROM allowed a JOIN next n ON n.id = a.room_id
     ), message AS (
       INSERT INTO messages (room_id, author_id, seq, body, client_message_id, reply_to_id)
       SELECT room_id, author_id, seq, body, client_message_id, reply_to_id FROM numbered
       RETURNING ${MESSAGE_COLUMNS}
     ), event AS (
       INSERT INTO room_events (room_id, seq, kind, actor_id, message_id)
       SELECT room_id, seq, 'MESSAGE_ADDED', author_id, id FROM message
     )
     SELECT n.ord, m.* FROM message m JOIN numbered n ON n.room_id = m.room_id AND n.seq = m.seq`,
    [
      inputs.map((input) => input.roomId),
      inputs.map((input) => input.authorId),
      inputs.map((input) => input.body),
      inputs.map((input) => input.clientMessageId),
      inputs.map((input) => input.replyToId),
    ],
    { prepareAs: 'parley_insert_messages' },
  );
  const stored: (Message | null)[] = inputs.map(() => null);
  for (const row of rows) stored[Number(row.ord) - 1] = messageFromRow(row);
  return stored;
}

/** The messages_author_is_member trigger refused the row: its author is not (any more) a member of the room. */
function isAuthorNotMember(error: unknown): boolean {
  return (error as { driverError?: { constraint?: string } } | null)?.driverError?.constraint === 'messages_author_is_member';
}
