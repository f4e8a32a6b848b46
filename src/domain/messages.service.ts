import type { DataSource } from 'typeorm';
import { Message } from '../db/entities/message.entity.js';
import { openResumableRoomStream } from '../realtime/resumable-room-stream.js';
import { decodeCursor } from './cursor.js';
import { BadUserInputError } from './errors.js';
import { readHistoryPage, readMessagesAfter, type HistoryArgs, type MessagePage } from './message-history.js';
import { requireMembership } from './room-access.js';
import { messageAdded, type RoomEvents, type RoomEvent } from './room-events.js';
import { isUniqueViolation } from './unique-violation.js';
import type { Viewer } from './viewer.js';

const CLIENT_MESSAGE_ID_MAX = 64;
const CLIENT_MESSAGE_ID_INDEX = 'messages_author_id_client_message_id_key';

export interface MessagesServiceOptions {
  /** Longest body after trimming, in characters (MESSAGE_MAX_LENGTH). */
  maxLength: number;
}

/** Sending, reading and following a room's messages. */
export class MessagesService {
  constructor(
    private readonly db: DataSource,
    private readonly events: RoomEvents,
    private readonly options: MessagesServiceOptions,
  ) {}

  /**
   * Stores a message with the room's next seq and publishes it after commit. With `clientMessageId`, a retry
   * (also a concurrent one) returns the message first stored under that id and stores nothing.
   * @throws NotFoundError for a room the viewer cannot see; ForbiddenError for a non-member;
   *   BadUserInputError for a bad body or clientMessageId, or a clientMessageId already used in another room.
   */
  async send(viewer: Viewer, roomId: string, rawBody: string, clientMessageId?: string | null): Promise<Message> {
    const body = this.validBody(rawBody);
    if (clientMessageId != null) validateClientMessageId(clientMessageId);
    await requireMembership(this.db.manager, viewer, roomId);
    if (clientMessageId != null) {
      const earlier = await this.findByClientMessageId(viewer, clientMessageId);
      if (earlier) return sameRoom(earlier, roomId);
    }
    let message: Message;
    try {
      message = await this.db.transaction(async (tx) => {
        // The row lock on the room orders concurrent senders: seqs follow commit order with no gaps.
        const [[counter]]: [[{ last_seq: number }], number] = await tx.query(
          'UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq',
          [roomId],
        );
        return tx.save(
          tx.create(Message, { roomId, authorId: viewer.id, body, seq: counter.last_seq, clientMessageId }),
        );
      });
    } catch (error) {
      // A concurrent retry committed first; our transaction (and its seq) rolled back.
      if (clientMessageId == null || !isUniqueViolation(error, CLIENT_MESSAGE_ID_INDEX)) throw error;
      const winner = await this.findByClientMessageId(viewer, clientMessageId);
      if (!winner) throw error;
      return sameRoom(winner, roomId);
    }
    this.events.publish(roomId, messageAdded(message));
    return message;
  }

  /**
   * A page of the room's history for a member.
   * @throws NotFoundError / ForbiddenError as for `send`; BadUserInputError for bad paging arguments.
   */
  async history(viewer: Viewer, roomId: string, args: HistoryArgs): Promise<MessagePage> {
    await requireMembership(this.db.manager, viewer, roomId);
    return readHistoryPage(this.db.manager, roomId, args);
  }

  /**
   * The room's new messages for a member, exactly once each in seq order; with `after`, every message after that
   * cursor is replayed first. Membership is checked once, when following starts.
   * @throws NotFoundError / ForbiddenError as for `send`; BadUserInputError for a bad cursor.
   */
  async follow(viewer: Viewer, roomId: string, after?: string | null): Promise<AsyncGenerator<RoomEvent>> {
    const afterSeq = after != null ? decodeCursor(after, roomId, 'after') : undefined;
    await requireMembership(this.db.manager, viewer, roomId);
    return openResumableRoomStream<RoomEvent>({
      listen: (onEvent) => this.events.subscribe(roomId, onEvent),
      readAfter: async (seq, limit) =>
        (await readMessagesAfter(this.db.manager, roomId, seq, limit)).map(messageAdded),
      readLatestSeq: async () => {
        const [row]: { last_seq: number }[] = await this.db.query('SELECT last_seq FROM rooms WHERE id = $1', [roomId]);
        return row?.last_seq ?? 0;
      },
      ...(afterSeq !== undefined ? { afterSeq } : {}),
    });
  }

  private validBody(rawBody: string): string {
    const body = rawBody.trim();
    if (body.length === 0) throw new BadUserInputError('Message body must not be empty', 'body');
    const length = [...body].length;
    if (length > this.options.maxLength) {
      throw new BadUserInputError(
        `Message body is ${length} characters; the maximum is ${this.options.maxLength}`,
        'body',
      );
    }
    return body;
  }

  private findByClientMessageId(viewer: Viewer, clientMessageId: string): Promise<Message | null> {
    return this.db.manager.findOne(Message, { where: { authorId: viewer.id, clientMessageId } });
  }
}

function validateClientMessageId(clientMessageId: string): void {
  const length = [...clientMessageId].length;
  if (length < 1 || length > CLIENT_MESSAGE_ID_MAX) {
    throw new BadUserInputError(
      `clientMessageId must be 1 to ${CLIENT_MESSAGE_ID_MAX} characters`,
      'clientMessageId',
    );
  }
}

/** A clientMessageId names one send; reusing it for another room is a client bug, not a retry. */
function sameRoom(message: Message, roomId: string): Message {
  if (message.roomId !== roomId) {
    throw new BadUserInputError('clientMessageId was already used for a message in another room', 'clientMessageId');
  }
  return message;
}
