import type { DataSource } from 'typeorm';
import type { NotifyWebhookSettings } from '../config.js';
import type { MessageNotifications } from '../domain/message-notifications.js';
import type { Logger } from '../logger.js';
import { WebhookDelivery } from './webhook-delivery.js';
import { WebhookNotifications } from './webhook-notifications.js';

/**
 * Offline notifications over the operator's webhook (NOTIFY_WEBHOOK_URL). Pushes onto `cleanups` the step that
 * cancels pending retries and aborts requests in flight on stop.
 */
export function webhookNotifications(
  settings: NotifyWebhookSettings,
  db: DataSource,
  log: Logger,
  isConnected: (userId: string) => boolean,
  cleanups: (() => Promise<void>)[],
): MessageNotifications {
  const delivery = new WebhookDelivery({ ...settings, log });
  cleanups.push(() => delivery.close());
  return new WebhookNotifications(db, isConnected, delivery, log);
}
