import type { Message } from '../db/entities/message.entity.js';

/**
 * Told about stored messages after commit, to reach people who are not connected (the webhook of
 * NOTIFY_WEBHOOK_URL). Implementations return at once and never throw: a notification never delays or fails a send.
 */
export interface MessageNotifications {
  /** A message was stored (for a DIRECT room: its other participant may need to hear of it). */
  sent(message: Message): void;
  /** Members were newly mentioned in a message (at send, or by an edit that added them). */
  mentioned(message: Message, userIds: readonly string[]): void;
}

/** Notifies nobody. */
export const noMessageNotifications: MessageNotifications = {
  sent: () => {},
  mentioned: () => {},
};
