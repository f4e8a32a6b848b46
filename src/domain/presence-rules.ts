import type { PresenceRow } from '../db/queries/presence-rows.js';
import type { PresenceRecord } from '../realtime/presence-store.js';
import type { Presence, PresenceStatus } from './presence.js';

/** How a user with nothing to show (deleted, or hidden from the viewer by a block) appears. */
export const OFFLINE_UNSEEN: Presence = { status: 'OFFLINE', lastSeenAt: null };

/**
 * A user is present while a socket is open and for `graceMs` after the last one closed: a reconnect inside that
 * window changes nothing anyone can see.
 */
export function isPresent(record: PresenceRecord, now: number, graceMs: number): boolean {
  return record.sockets > 0 || (record.goneAt !== null && now - record.goneAt.getTime() < graceMs);
}

/**
 * The status a user's record calls for: while present, the manual status if one is set, else ONLINE; otherwise
 * OFFLINE. A manual status therefore lasts while the user is connected and through the grace period (a client
 * that reconnects stays AWAY or invisible); it lapses with the grace period (see PresenceService.connected).
 */
export function statusOf(record: PresenceRecord, now: number, graceMs: number): PresenceStatus {
  return isPresent(record, now, graceMs) ? (record.manual?.status ?? 'ONLINE') : 'OFFLINE';
}

/**
 * The presence others see of a user in `status`. `lastSeenAt` is null while the user is visibly connected; when
 * OFFLINE it is when the last socket closed, or, for a user who chose to appear offline, when they chose it (so
 * appearing offline does not reveal when the user really left).
 */
export function presenceIn(status: PresenceStatus, record: PresenceRecord, now: number): Presence {
  if (status !== 'OFFLINE') return { status, lastSeenAt: null };
  const lastSeenAt = record.manual?.status === 'OFFLINE' ? record.manual.since : (record.goneAt ?? new Date(now));
  return { status, lastSeenAt };
}

/**
 * What a viewer is shown of a user: nothing for a deleted account or a user who blocked the viewer; otherwise
 * what subscribers were last sent, or for a user not seen since this server started, PostgreSQL's last_seen_at.
 */
export function visiblePresence(row: PresenceRow, record: PresenceRecord | undefined): Presence {
  if (row.deleted || row.blocksViewer) return OFFLINE_UNSEEN;
  return record?.shown ?? { status: 'OFFLINE', lastSeenAt: row.lastSeenAt };
}
