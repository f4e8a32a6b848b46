import type { EntityManager } from 'typeorm';
import type { Message } from '../db/entities/message.entity.js';
import { resolveMentionedMembers, storeMentions } from '../db/queries/message-mentions.js';
import type { MentionName } from './mention-names.js';
import type { PersistedUserEvent } from './user-events.js';
import { appendUserEvent } from './user-log.js';

/**
 * Inside the transaction that stores a new message, after its insert (which holds the room's lock): resolves its
 * @names to members (see resolveMentionedMembers), stores them and appends a MENTIONED event to each mentioned
 * member's log. Returns those events, to publish once the transaction has committed.
 */
export async function mentionInNewMessage(tx: EntityManager, message: Message, names: readonly MentionName[]): Promise<PersistedUserEvent[]> {
  const userIds = await resolveMentionedMembers(tx, message, names);
  if (userIds.length === 0) return [];
  return notifyMentioned(tx, message, await storeMentions(tx, message, userIds));
}

/**
 * Inside an edit's room change: makes the members the new body names the message's active mentions and appends a
 * MENTIONED event for each member it names for the first time (one who was named before, dropped and named again
 * is not told twice). Returns those events, to publish once the change has committed.
 */
export async function mentionInEdit(tx: EntityManager, message: Message, names: readonly MentionName[]): Promise<PersistedUserEvent[]> {
  const userIds = await resolveMentionedMembers(tx, message, names);
  return notifyMentioned(tx, message, await storeMentions(tx, message, userIds));
}

async function notifyMentioned(tx: EntityManager, message: Message, userIds: readonly string[]): Promise<PersistedUserEvent[]> {
  const events: PersistedUserEvent[] = [];
  // In user id order, as every transaction that appends to several logs does: two cannot deadlock.
  for (const userId of [...userIds].sort()) {
    const event = await appendUserEvent(tx, userId, { kind: 'MENTIONED', roomId: message.roomId, actorId: message.authorId, messageId: message.id });
    if (event) events.push(event);
  }
  return events;
}
