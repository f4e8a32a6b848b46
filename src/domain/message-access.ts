import type { EntityManager } from 'typeorm';
import { Message } from '../db/entities/message.entity.js';
import { NotFoundError } from './errors.js';
import { isUuid } from './ids.js';
import { requireMembership, type RoomAccess } from './room-access.js';
import type { Viewer } from './viewer.js';

export interface MessageAccess {
  message: Message;
  access: RoomAccess;
}

/**
 * A message of a room the viewer is a member of.
 * @throws NotFoundError for an unknown id or a message of a room the viewer cannot see; ForbiddenError for a
 *   public room the viewer has not joined.
 */
export async function requireMessageOfMember(db: EntityManager, viewer: Viewer, messageId: string): Promise<MessageAccess> {
  const message = isUuid(messageId) ? await db.findOneBy(Message, { id: messageId }) : null;
  if (!message) throw new NotFoundError('Message');
  try {
    return { message, access: await requireMembership(db, viewer, message.roomId) };
  } catch (error) {
    // The message's room is invisible to the viewer: so is the message.
    if (error instanceof NotFoundError) throw new NotFoundError('Message');
    throw error;
  }
}
