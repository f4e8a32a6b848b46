import type { PublicUser } from './users.service.js';

/** What a user's presence can be: see the PresenceStatus enum of the schema. */
export type PresenceStatus = 'ONLINE' | 'AWAY' | 'OFFLINE';

/** A user's presence as others see it. */
export interface Presence {
  readonly status: PresenceStatus;
  /** When the user was last connected; null while connected or never seen. */
  readonly lastSeenAt: Date | null;
}

/** One user's presence, as the `presence` subscription sends it. */
export interface PresenceChange {
  readonly userId: string;
  readonly presence: Presence;
  /**
   * The user's row as read when the change was made, so that the subscribers of a change do not each load it;
   * absent, PresenceChanged.user loads it.
   */
  readonly user?: PublicUser;
}
