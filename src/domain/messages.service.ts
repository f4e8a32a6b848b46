import type DataLoader from 'dataloader';
import type { Logger } from '../logger.js';
import type { DataSource } from 'typeorm';
import { Message } from '../db/entities/message.entity.js';
import { MessageReaction } from '../db/entities/message-reaction.entity.js';
import { BadUserInputError, ForbiddenError, NotFoundError } from './errors.js';
import { inFlightBatchLoader } from './in-flight-batch-loader.js';
import { isUuid } from '../db/ids.js';
import { validMessageBody } from './message-body.js';
import { insertMessageOfMember, insertMessagesOfMembers, type NewMessage } from '../db/queries/message-inserts.js';
import { activeMentionsOf, unreadMentionCounts } from '../db/queries/message-mentions.js';
import { readHistoryPage, type HistoryArgs, type MessagePage } from './message-history.js';
import type { RateLimits } from './rate-limits.js';
import { requireStorableText } from './storable-text.js';
import { requireMembership } from './room-access.js';
import type { RoomEvents } from './room-events.js';
import { readReactionSnapshot } from '../db/queries/reaction-snapshots.js';
import { RoomChanges } from './room-changes.js';
import { messageAddedEvent } from './room-log.js';
import { isConstraintViolation, isUniqueViolation } from './unique-violation.js';
import type { Viewer } from './viewer.js';
import type { MessageNotifications } from './message-notifications.js';
import type { PersistedUserEvent, UserEvents } from './user-events.js';
import { mentionNames, type MentionName } from './mention-names.js';
import { mentionInEdit, mentionInNewMessage } from './mentions.js';
import { updateEditedBody } from '../db/queries/search-index.js';
import type { SearchIndexing } from './search-indexer.js';

const CLIENT_MESSAGE_ID_MAX = 64;
const CLIENT_MESSAGE_ID_INDEX = 'messages_author_id_client_message_id_key';
/** Raised by the messages insert trigger for a DIRECT room whose other participant blocked the author or was deleted. */
const DIRECT_PEER_ACCEPTS = 'messages_direct_peer_accepts';

export interface MessagesServiceOptions {
  /** Longest body after trimming, in characters (MESSAGE_MAX_LENGTH). */
  maxLength: number;
  /**
   * Sends arriving while a store is in flight are stored together in the next statement (SEND_GROUP_COMMIT).
   * Off: one transaction per message.
   */
  groupCommit: boolean;
  /** Called when a send starts; what it returns is called with the outcome when it ends (the send latency metric). */
  observeSend?: () => (outcome: 'ok' | 'error') => void;
}

/** Most messages one group commit stores. */
const GROUP_COMMIT_MAX = 200;

/** A message just stored and the MENTIONED events its insert appended, to publish after commit. */
interface StoredMessage {
  message: Message;
  mentions: PersistedUserEvent[];
}

/** Thrown inside a mention send's transaction to roll it back when the author was not a member. */
class NotAMember extends Error {}

export interface SendMessageInput {
  body: string;
  clientMessageId?: string | null;
  replyToId?: string | null;
}

/** Sending, editing, deleting and reading a room's messages. Every change is logged and published after commit. */
export class MessagesService {
  private readonly groupCommits: DataLoader<NewMessage, Message | null> | undefined;
  private readonly changes: RoomChanges;
  /** Group commits that failed as a whole and were stored one by one (reported in each warning). */
  private groupCommitFallbacks = 0;

  constructor(
    private readonly db: DataSource,
    private readonly events: RoomEvents,
    private readonly limits: RateLimits,
    private readonly options: MessagesServiceOptions,
    private readonly log: Logger,
    private readonly userEvents: UserEvents,
    private readonly notifications: MessageNotifications,
    private readonly searchIndexing: SearchIndexing,
  ) {
    this.changes = new RoomChanges(db, events, userEvents);
    if (options.groupCommit) this.groupCommits = inFlightBatchLoader((batch) => this.storeTogether(batch), { maxBatchSize: GROUP_COMMIT_MAX });
  }

  /**
   * Stores a message under the seq of its MESSAGE_ADDED event. With `clientMessageId`, a retry (also a concurrent
   * one) returns the message first stored under that id and stores nothing. A body with @names (see mentionNames)
   * is stored in a transaction that also stores its mentions and appends a MENTIONED event to each mentioned
   * member's log; any other body takes the group commit.
   * @throws NotFoundError for a room the viewer cannot see or a reply target outside the room; ForbiddenError for
   *   a non-member, and in a DIRECT room whose other participant blocked the viewer or was deleted; BadUserInputError for a bad body or clientMessageId, or a clientMessageId used in another room.
   */
  async send(viewer: Viewer, roomId: string, input: SendMessageInput): Promise<Message> {
    const observe = this.options.observeSend?.();
    try {
      const message = await this.sendUnobserved(viewer, roomId, input);
      observe?.('ok');
      return message;
    } catch (error) {
      observe?.('error');
      throw error;
    }
  }

  private async sendUnobserved(viewer: Viewer, roomId: string, input: SendMessageInput): Promise<Message> {
    await this.limits.send(viewer.id);
    const body = validMessageBody(input.body, this.options.maxLength);
    const { clientMessageId, replyToId } = input;
    if (clientMessageId != null) validateClientMessageId(clientMessageId);
    // A plain send is one statement that checks membership itself; replies and retries are checked first, so a
    // non-member learns nothing about the reply target or an earlier send.
    if (replyToId != null || clientMessageId != null || !isUuid(roomId)) await requireMembership(this.db.manager, viewer, roomId);
    if (replyToId != null) await this.requireReplyTarget(roomId, replyToId);
    if (clientMessageId != null) {
      const earlier = await this.findByClientMessageId(viewer, clientMessageId);
      if (earlier) return sameRoom(earlier, roomId);
    }
    const newMessage = { roomId, authorId: viewer.id, body, clientMessageId: clientMessageId ?? null, replyToId: replyToId ?? null };
    const names = mentionNames(body);
    let stored: StoredMessage | null;
    try {
      stored = await this.store(newMessage, names, true);
      if (!stored) {
        // Not a member when the statement ran: say why (NOT_FOUND or FORBIDDEN), or try once more if the viewer
        // has joined since.
        await requireMembership(this.db.manager, viewer, roomId);
        stored = await this.store(newMessage, names, false);
        if (!stored) throw new ForbiddenError('You are not a member of this room');
      }
    } catch (error) {
      if (isConstraintViolation(error, DIRECT_PEER_ACCEPTS)) throw new ForbiddenError('This user does not accept your messages');
      // A concurrent retry committed first; our statement (and its seq) rolled back.
      if (clientMessageId == null || !isUniqueViolation(error, CLIENT_MESSAGE_ID_INDEX)) throw error;
      const winner = await this.findByClientMessageId(viewer, clientMessageId);
      if (!winner) throw error;
      return sameRoom(winner, roomId);
    }
    const { message, mentions } = stored;
    this.searchIndexing.messagesStored(); // sends store no search vector (README "Search")
    this.events.publish(roomId, messageAddedEvent(message, viewer));
    this.publishMentions(message, mentions);
    this.notifications.sent(message);
    return message;
  }

  /**
   * Replaces the body of the viewer's own message and sets `editedAt`; its search vector follows in the same
   * statement, so search finds the edit by its new text only as soon as it commits.
   * @throws NotFoundError / ForbiddenError as for `send`; ForbiddenError for someone else's message;
   *   BadUserInputError for a bad body or a deleted message.
   */
  async edit(viewer: Viewer, messageId: string, rawBody: string): Promise<Message> {
    const body = validMessageBody(rawBody, this.options.maxLength);
    const names = mentionNames(body);
    let mentions: PersistedUserEvent[] = [];
    const edited = await this.changes.toMessage(viewer, messageId, async ({ tx, message, append }) => {
      if (message.authorId !== viewer.id) throw new ForbiddenError('Only the author can edit a message');
      if (message.deletedAt) throw new BadUserInputError('Message was deleted', 'messageId');
      // Active mentions come from names in the current body: with none in either, there are none to change.
      const mentionsMayChange = names.length > 0 || mentionNames(message.body).length > 0;
      message.body = body;
      message.editedAt = new Date();
      await updateEditedBody(tx, message.id, body, message.editedAt);
      if (mentionsMayChange) mentions = await mentionInEdit(tx, message, names);
      await append({ kind: 'MESSAGE_EDITED', actorId: viewer.id, messageId, message, reactions: await readReactionSnapshot(tx, messageId) });
      return message;
    });
    this.publishMentions(edited, mentions);
    return edited;
  }

  /**
   * Deletes a message for everyone: the text (its search vector too) and reactions are removed from storage and a tombstone stays in
   * history with `deletedAt` set. Deleting a tombstone again changes nothing.
   * @throws NotFoundError / ForbiddenError as for `send`; ForbiddenError unless the viewer wrote the message or
   *   owns the room.
   */
  async delete(viewer: Viewer, messageId: string): Promise<Message> {
    return this.changes.toMessage(viewer, messageId, async ({ tx, access, message, append }) => {
      if (message.authorId !== viewer.id && access.role !== 'OWNER') {
        throw new ForbiddenError('Only the author or the room owner can delete a message');
      }
      if (message.deletedAt) return message; // already a tombstone (perhaps by a concurrent delete)
      message.body = '';
      message.deletedAt = new Date();
      await tx.update(Message, { id: message.id }, { body: '', deletedAt: message.deletedAt, searchVector: null });
      await tx.delete(MessageReaction, { messageId: message.id });
      await append({ kind: 'MESSAGE_DELETED', actorId: viewer.id, messageId, message, reactions: [] });
      return message;
    });
  }

  /**
   * A page of the room's history for a member (tombstones included).
   * @throws NotFoundError / ForbiddenError as for `send`; BadUserInputError for bad paging arguments or a cursor
   *   ahead of the room.
   */
  async history(viewer: Viewer, roomId: string, args: HistoryArgs): Promise<MessagePage> {
    const { room } = await requireMembership(this.db.manager, viewer, roomId);
    return readHistoryPage(this.db.manager, room, args);
  }

  /** Messages by id, in no particular order; for DataLoader batches (callers already checked access). */
  findByIds(ids: readonly string[]): Promise<Message[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return Promise.resolve([]);
    return this.db.createQueryBuilder(Message, 'message').where('message.id = ANY(:ids)', { ids: valid }).getMany();
  }

  /** The active mentions of each message, as user ids (absent: none); for DataLoader (callers already checked access). */
  mentionsOf(messageIds: readonly string[]): Promise<Map<string, string[]>> {
    const valid = messageIds.filter(isUuid);
    return valid.length === 0 ? Promise.resolve(new Map()) : activeMentionsOf(this.db.manager, valid);
  }

  /**
   * The viewer's unread mentions per room (absent where not a member): messages after the viewer's read position,
   * not deleted, that mention the viewer; in a DIRECT room every unread message by the other participant counts
   * (it equals unreadCount). One statement, for DataLoader.
   */
  unreadMentionCounts(viewer: Viewer, roomIds: readonly string[]): Promise<Map<string, number>> {
    return unreadMentionCounts(this.db.manager, viewer.id, roomIds.filter(isUuid));
  }

  /**
   * Stores a message: a plain one through the group commit when `batched` (else alone), one with @names in a
   * transaction with its mentions. Null, with nothing stored, when the author is not a member.
   */
  private async store(newMessage: NewMessage, names: readonly MentionName[], batched: boolean): Promise<StoredMessage | null> {
    if (names.length > 0) return this.storeMentioning(newMessage, names);
    const message = await (batched && this.groupCommits ? this.groupCommits.load(newMessage) : insertMessageOfMember(this.db.manager, newMessage));
    return message && { message, mentions: [] };
  }

  /**
   * The message's insert (which takes the room's lock and checks membership under it), then its mentions, in one
   * transaction; a failure (a taken clientMessageId, a refusing DIRECT peer) stores neither.
   */
  private async storeMentioning(newMessage: NewMessage, names: readonly MentionName[]): Promise<StoredMessage | null> {
    try {
      return await this.db.transaction(async (tx) => {
        const message = await insertMessageOfMember(tx, newMessage);
        if (!message) throw new NotAMember();
        return { message, mentions: await mentionInNewMessage(tx, message, names) };
      });
    } catch (error) {
      if (error instanceof NotAMember) return null;
      throw error;
    }
  }

  /** After commit: each MENTIONED event to its user's stream, and the newly mentioned to the notifications. */
  private publishMentions(message: Message, mentions: readonly PersistedUserEvent[]): void {
    if (mentions.length === 0) return;
    for (const event of mentions) this.userEvents.publish(event.userId, event);
    this.notifications.mentioned(message, mentions.map((event) => event.userId));
  }

  /**
   * One group commit. When the batch fails as a whole (say, one clientMessageId was taken by a concurrent retry),
   * its messages are stored one by one, in order, so each gets its own outcome.
   */
  private async storeTogether(batch: readonly NewMessage[]): Promise<(Message | null | Error)[]> {
    if (batch.length > 1) {
      try {
        return await insertMessagesOfMembers(this.db.manager, batch);
      } catch (error) {
        // Expected now and then (a clientMessageId taken by a concurrent retry); a steady stream of these is a fault
        // that would otherwise only show as one statement per message.
        this.groupCommitFallbacks++;
        this.log.warn({ err: error, messages: batch.length, fallbacks: this.groupCommitFallbacks }, 'group commit failed: storing its messages one by one');
      }
    }
    const outcomes: (Message | null | Error)[] = [];
    for (const message of batch) {
      outcomes.push(await insertMessageOfMember(this.db.manager, message).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
    }
    return outcomes;
  }

  private async requireReplyTarget(roomId: string, replyToId: string): Promise<void> {
    const target = isUuid(replyToId) ? await this.db.manager.findOne(Message, { where: { id: replyToId }, select: { id: true, roomId: true } }) : null;
    if (!target || target.roomId !== roomId) throw new NotFoundError('Reply target message');
  }

  private findByClientMessageId(viewer: Viewer, clientMessageId: string): Promise<Message | null> {
    return this.db.manager.findOne(Message, { where: { authorId: viewer.id, clientMessageId } });
  }
}

function validateClientMessageId(clientMessageId: string): void {
  requireStorableText(clientMessageId, 'clientMessageId');
  const length = [...clientMessageId].length;
  if (length < 1 || length > CLIENT_MESSAGE_ID_MAX) {
    throw new BadUserInputError(`clientMessageId must be 1 to ${CLIENT_MESSAGE_ID_MAX} characters`, 'clientMessageId');
  }
}

/** A clientMessageId names one send; reusing it for another room is a client bug, not a retry. */
function sameRoom(message: Message, roomId: string): Message {
  if (message.roomId !== roomId) {
    throw new BadUserInputError('clientMessageId was already used for a message in another room', 'clientMessageId');
  }
  return message;
}
