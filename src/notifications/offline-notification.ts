import type { RoomKind } from '../db/entities/room.entity.js';

/**
 * Why a user hears of a message while offline. In a DIRECT room every message is a DIRECT_MESSAGE to the other
 * participant, and a mention there adds nothing: one notification per recipient and message.
 */
export type OfflineNotificationKind = 'MENTION' | 'DIRECT_MESSAGE';

/** The JSON body POSTed to NOTIFY_WEBHOOK_URL (README, "Offline notifications (webhook)"). */
export interface OfflineNotification {
  /** Unique per notification and the same on every retry of it: receivers deduplicate by it. */
  id: string;
  kind: OfflineNotificationKind;
  recipientId: string;
  /** `name` is the room's name as the recipient sees it: in a DIRECT room, the author's username. */
  room: { id: string; name: string; kind: RoomKind };
  messageId: string;
  author: { id: string; username: string };
  /** The body on one line, at most 140 characters, cut with "…" (see messagePreview). */
  preview: string;
  /** When the message was stored, ISO 8601. */
  sentAt: string;
}
