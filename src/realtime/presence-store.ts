import type { Presence, PresenceChange, PresenceStatus } from '../domain/presence.js';
import type { Unsubscribe } from './stream-event-bus.js';

/** A status a user set by hand (ONLINE is no status of its own: it clears this). */
export interface ManualStatus {
  readonly status: Exclude<PresenceStatus, 'ONLINE'>;
  /** When it was set: for OFFLINE, the `lastSeenAt` others are shown. */
  readonly since: Date;
}

/** What the store keeps of one user who has connected at least once since the store started. */
export interface PresenceRecord {
  /** Authenticated sockets of the user open now. */
  readonly sockets: number;
  /** When the user's last socket closed; null until it first did. Meaningful while `sockets` is 0. */
  readonly goneAt: Date | null;
  readonly manual: ManualStatus | null;
  /** What others were last sent (and what a new subscriber starts from); null before the first publish. */
  readonly shown: Presence | null;
  /**
   * The change that was last published, `shown` being its presence: new subscribers get this very object, so that
   * the transport renders it once for all of them (see shared-event-renders).
   */
  readonly lastChange: PresenceChange | null;
}

/**
 * Presence state and its delivery, behind one interface so that a deployment of several processes keeps it in
 * shared storage (SharedPresenceStore over PostgreSQL or Redis) without touching its callers: state operations are
 * asynchronous and each one is a single atomic step there, `publish` is fire-and-forget like
 * StreamEventBus.publish, and a watcher hears every change published after `watch` returns, in publish order per
 * user. The rules (what counts as a transition, the grace period, the throttle) belong to PresenceService.
 */
export interface PresenceStore {
  /**
   * Counts one more open socket of the user, unless the user has `maxSockets` open already (across every process
   * of a shared store; 0 or absent: no cap), in one atomic step. Resolves to the user's record after the change,
   * or null when over the cap (nothing counted).
   */
  connected(userId: string, maxSockets?: number): Promise<PresenceRecord | null>;
  /** Counts one socket fewer (`at`: now); when none is left, `goneAt` becomes `at`. */
  disconnected(userId: string, at: Date): Promise<PresenceRecord>;
  /** Sets or clears the manual status of a user the store has a record of; resolves to undefined for others. */
  setManual(userId: string, manual: ManualStatus | null): Promise<PresenceRecord | undefined>;
  /** Records of those of `userIds` the store has one of. */
  current(userIds: readonly string[]): Promise<Map<string, PresenceRecord>>;
  /** Makes `change` what the user is shown as, and sends it to the user's watchers. */
  publish(change: PresenceChange): void;
  /** Calls `listener` with every change published for one of `userIds` until the returned function is called. */
  watch(userIds: readonly string[], listener: (change: PresenceChange) => void): Unsubscribe;
  /**
   * Registers the one listener told of users whose grace period nobody is timing any more (their last socket went
   * with a process that stopped without closing it, or the process timing it is gone) and has run out: the
   * listener settles them (PresenceService publishes OFFLINE). A store of one process has none and never calls it.
   */
  onOrphaned?(listener: (userIds: readonly string[]) => void): void;
  /** Stops the store's own timers and leaves the shared state (called last, before the database pool closes). */
  dispose?(): Promise<void>;
}

interface MutableRecord {
  sockets: number;
  goneAt: Date | null;
  manual: ManualStatus | null;
  shown: Presence | null;
  lastChange: PresenceChange | null;
}

/**
 * The PresenceStore of a single process: a record per user who has connected since start (a few dozen bytes each;
 * never dropped, as a shared store would let them expire) and a set of listeners per watched user, called
 * synchronously.
 */
export class InProcessPresenceStore implements PresenceStore {
  private readonly records = new Map<string, MutableRecord>();
  private readonly watchers = new Map<string, Set<(change: PresenceChange) => void>>();

  async connected(userId: string, maxSockets = 0): Promise<PresenceRecord | null> {
    let record = this.records.get(userId);
    if (!record) this.records.set(userId, (record = { sockets: 0, goneAt: null, manual: null, shown: null, lastChange: null }));
    if (maxSockets > 0 && record.sockets >= maxSockets) return null;
    record.sockets++;
    return { ...record };
  }

  async disconnected(userId: string, at: Date): Promise<PresenceRecord> {
    const record = this.records.get(userId);
    if (!record || record.sockets === 0) throw new Error(`presence: ${userId} disconnected more sockets than it connected`);
    record.sockets--;
    if (record.sockets === 0) record.goneAt = at;
    return { ...record };
  }

  async setManual(userId: string, manual: ManualStatus | null): Promise<PresenceRecord | undefined> {
    const record = this.records.get(userId);
    if (!record) return undefined;
    record.manual = manual;
    return { ...record };
  }

  async current(userIds: readonly string[]): Promise<Map<string, PresenceRecord>> {
    const found = new Map<string, PresenceRecord>();
    for (const id of userIds) {
      const record = this.records.get(id);
      if (record) found.set(id, { ...record });
    }
    return found;
  }

  publish(change: PresenceChange): void {
    const record = this.records.get(change.userId);
    if (record) {
      record.shown = change.presence;
      record.lastChange = change;
    }
    for (const listener of this.watchers.get(change.userId) ?? []) listener(change);
  }

  watch(userIds: readonly string[], listener: (change: PresenceChange) => void): Unsubscribe {
    // A registration of its own, so one listener may watch twice and each unwatch removes only its own.
    const registration = (change: PresenceChange) => listener(change);
    const ids = [...new Set(userIds)];
    for (const id of ids) {
      let listeners = this.watchers.get(id);
      if (!listeners) this.watchers.set(id, (listeners = new Set()));
      listeners.add(registration);
    }
    return () => {
      for (const id of ids) {
        const listeners = this.watchers.get(id);
        if (!listeners?.delete(registration)) continue;
        if (listeners.size === 0) this.watchers.delete(id);
      }
    };
  }
}
