import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Message } from '../db/entities/message.entity.js';
import { readNotificationNames, type RoomShape } from '../db/queries/notification-rows.js';
import type { MessageNotifications } from '../domain/message-notifications.js';
import type { Logger } from '../logger.js';
import { messagePreview } from './message-preview.js';
import type { OfflineNotification, OfflineNotificationKind } from './offline-notification.js';
import { RoomShapes } from './room-shapes.js';
import type { WebhookRequest } from './webhook-delivery.js';

/** Where notifications go: WebhookDelivery. */
export interface NotificationSink {
  /** Returns at once; false when the notification was dropped. */
  enqueue(request: WebhookRequest): boolean;
}

/** What a notification needs of a message, copied when the call arrives (the entity may change afterwards). */
type SentMessage = Pick<Message, 'id' | 'roomId' | 'authorId' | 'body' | 'createdAt'>;

/**
 * Offline notifications: a DIRECT message to the other participant and a mention to each mentioned member, but only
 * to those with no socket open in this process when the message is handled. Both calls return at once: the room
 * lookup, the names and the delivery happen after the send has been answered, and a failure is logged, never
 * thrown. In a DIRECT room a mention adds nothing to the DIRECT_MESSAGE (one notification per recipient and
 * message); a note to oneself notifies nobody, and neither does a mention of the author.
 */
export class WebhookNotifications implements MessageNotifications {
  private readonly rooms: RoomShapes;

  constructor(
    private readonly db: DataSource,
    /** Whether the user has a socket open now (the WebSocket transport's sessions). */
    private readonly isConnected: (userId: string) => boolean,
    private readonly sink: NotificationSink,
    private readonly log: Logger,
  ) {
    this.rooms = new RoomShapes(db);
  }

  sent(message: Message): void {
    const sent = copyOf(message);
    this.handle(sent, async () => {
      const room = await this.rooms.get(sent.roomId);
      if (room?.kind !== 'DIRECT') return;
      const peer = room.directUserLowId === sent.authorId ? room.directUserHighId : room.directUserLowId;
      if (peer) await this.notify('DIRECT_MESSAGE', sent, room, [peer]);
    });
  }

  mentioned(message: Message, userIds: readonly string[]): void {
    const sent = copyOf(message);
    const recipients = [...new Set(userIds)];
    this.handle(sent, async () => {
      const room = await this.rooms.get(sent.roomId);
      if (!room || room.kind === 'DIRECT') return; // the DIRECT_MESSAGE of `sent` covers the other participant
      await this.notify('MENTION', sent, room, recipients);
    });
  }

  private handle(message: SentMessage, work: () => Promise<void>): void {
    work().catch((error: unknown) => this.log.warn({ err: error, messageId: message.id }, 'offline notification not sent'));
  }

  private async notify(kind: OfflineNotificationKind, message: SentMessage, room: RoomShape, candidates: readonly string[]): Promise<void> {
    const recipients = candidates.filter((userId) => userId !== message.authorId && !this.isConnected(userId));
    if (recipients.length === 0) return;
    const names = await readNotificationNames(this.db.manager, message.roomId, message.authorId);
    if (!names) return; // the room or the author is gone
    const preview = messagePreview(message.body);
    for (const recipientId of recipients) {
      const notification: OfflineNotification = {
        id: randomUUID(),
        kind,
        recipientId,
        room: { id: message.roomId, name: room.kind === 'DIRECT' ? names.authorUsername : names.roomName, kind: room.kind },
        messageId: message.id,
        author: { id: message.authorId, username: names.authorUsername },
        preview,
        sentAt: message.createdAt.toISOString(),
      };
      this.sink.enqueue({ id: notification.id, body: JSON.stringify(notification) });
    }
  }
}

function copyOf(message: Message): SentMessage {
  return { id: message.id, roomId: message.roomId, authorId: message.authorId, body: message.body, createdAt: message.createdAt };
}
