import { createHmac } from 'node:crypto';

/** Header carrying the Unix time in seconds at which an attempt was signed. */
export const WEBHOOK_TIMESTAMP_HEADER = 'x-parley-timestamp';
/** Header carrying `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` keyed with NOTIFY_WEBHOOK_SECRET. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-parley-signature';

/**
 * The signature header's value for a body sent at `timestamp` (Unix seconds). The timestamp is signed with the
 * body so a receiver can refuse a captured request replayed later (README shows the check).
 */
export function webhookSignature(secret: string, timestamp: number, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}
