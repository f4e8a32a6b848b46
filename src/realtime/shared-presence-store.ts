import type { PresenceChange, Presence } from '../domain/presence.js';
import type { Logger } from '../logger.js';
import type { ManualStatus, PresenceRecord, PresenceStore } from './presence-store.js';
import type { StreamEventBus, Unsubscribe } from './stream-event-bus.js';
import { presenceStream } from './stream-keys.js';

/** One user's presence as the shared storage keeps it (sockets counted over the processes not yet found gone). */
export interface SharedPresence {
  readonly sockets: number;
  readonly goneAt: Date | null;
  readonly manual: ManualStatus | null;
  readonly shown: Presence | null;
}

/**
 * Presence state kept where every process of a deployment sees it (PostgreSQL or Redis), for one process. Each
 * method is one atomic step. Sockets are counted per process as well as per user (a user's count is the sum of the
 * live processes' counts), and each process holds a lease it renews (`beat`), writing its own counts as it does: the
 * counts of a process whose lease ran out are taken away by whichever process `sweep`s first, so a process killed
 * with -9 leaves nobody connected and no socket against the cap for longer than its lease.
 */
export interface SharedPresenceState {
  /** This process's id (a random UUID per start). */
  readonly processId: string;
  /** Counts a socket of the user for this process unless `maxSockets` (> 0) are open already; null when over. */
  connect(userId: string, maxSockets: number): Promise<SharedPresence | null>;
  /** Counts one socket of the user fewer; the last one sets `goneAt` to `at` and makes this process time the grace. */
  disconnect(userId: string, at: Date): Promise<SharedPresence>;
  setManual(userId: string, manual: ManualStatus | null): Promise<SharedPresence | undefined>;
  read(userIds: readonly string[]): Promise<Map<string, SharedPresence>>;
  /** Records what the user is shown as. */
  storeShown(userId: string, shown: Presence): Promise<void>;
  /**
   * Renews this process's lease (registering again when it ran out and another process took its counts away), and
   * makes this process's count of each user named in `localSockets` what it says, moving the user's total by the
   * difference: a count that a failed or lost write left wrong is healed here. Users not named are left alone (their
   * operations may be in flight). A user whose total drops to 0 here is gone since now, with nobody timing the
   * grace period (the sweep claims it once it ends).
   */
  beat(localSockets: ReadonlyMap<string, number>): Promise<void>;
  /**
   * Takes away the counts of processes whose lease ran out (their users with no socket left are gone since the
   * lapse), then claims the users whose grace period, `graceMs` long, has run out while no live process times it;
   * resolves to those, for this process to settle.
   */
  sweep(graceMs: number): Promise<string[]>;
  /** Leaves: this process's counts are taken away and the grace periods it was timing are left to the sweep. */
  close(): Promise<void>;
}

export interface SharedPresenceOptions {
  /** PRESENCE_OFFLINE_GRACE: how long after the last socket closed a user turns OFFLINE. */
  offlineGraceMs: number;
  /** How often the lease is renewed and lapsed processes are swept. Default 3 s. */
  heartbeatMs?: number;
}

/** How often a process renews its lease and sweeps, by default. */
export const DEFAULT_PRESENCE_HEARTBEAT_MS = 3000;
/** How long a lease lasts by default: five heartbeats, so a slow statement or a GC pause does not lose it. */
export const DEFAULT_PRESENCE_LEASE_MS = 15_000;

/**
 * The PresenceStore of a deployment of several processes: state in a SharedPresenceState, changes sent over the
 * cross-process StreamEventBus on `presence:<userId>` (ephemeral, best effort: a lost change leaves a watcher on
 * the previous state until the next one, and a new watcher always reads the stored state). What a user is shown
 * is stored before the change is sent, so a watcher that reads the state after missing the change sees it.
 * State operations of one user are applied in call order within this process. The change last seen for a watched
 * user is kept, so new watchers get that very object (rendered once for all of them).
 */
export class SharedPresenceStore implements PresenceStore {
  /**
   * This process's counted sockets per user: the truth each beat writes to the shared state. A user stays listed
   * (at 0) after their last socket here closed until a beat has written that, so a write that failed (or whose
   * answer was lost) is corrected whichever way it went. Changed only in the user's turn.
   */
  private readonly localSockets = new Map<string, number>();
  /** Per user, the end of the last operation queued: one user's operations run in order. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Per watched user, its number of watchers here and the last change heard. */
  private readonly watched = new Map<string, { watchers: number; last: PresenceChange | null }>();
  private orphaned: ((userIds: readonly string[]) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(
    private readonly state: SharedPresenceState,
    private readonly bus: StreamEventBus<PresenceChange>,
    private readonly options: Required<SharedPresenceOptions>,
    private readonly log: Logger,
  ) {}

  /** A store over `state` (already registered), renewing its lease and sweeping every `heartbeatMs` until disposed. */
  static start(state: SharedPresenceState, bus: StreamEventBus<PresenceChange>, options: SharedPresenceOptions, log: Logger): SharedPresenceStore {
    const store = new SharedPresenceStore(state, bus, { heartbeatMs: DEFAULT_PRESENCE_HEARTBEAT_MS, ...options }, log);
    store.timer = setInterval(() => store.tick(), store.options.heartbeatMs);
    store.timer.unref();
    return store;
  }

  /** Counts the socket here only once the shared state has; when that write fails, the next beat undoes whatever of it landed. */
  async connected(userId: string, maxSockets = 0): Promise<PresenceRecord | null> {
    const stored = await this.inTurn(userId, async () => {
      const open = this.localSockets.get(userId) ?? 0;
      this.localSockets.set(userId, open);
      const counted = await this.state.connect(userId, maxSockets);
      if (counted) this.localSockets.set(userId, open + 1);
      return counted;
    });
    return stored && this.record(userId, stored);
  }

  /** Counts the socket off here first: when the shared state's write fails, the next beat makes it. */
  async disconnected(userId: string, at: Date): Promise<PresenceRecord> {
    const stored = await this.inTurn(userId, () => {
      this.localSockets.set(userId, Math.max((this.localSockets.get(userId) ?? 0) - 1, 0));
      return this.state.disconnect(userId, at);
    });
    return this.record(userId, stored);
  }

  async setManual(userId: string, manual: ManualStatus | null): Promise<PresenceRecord | undefined> {
    const stored = await this.inTurn(userId, () => this.state.setManual(userId, manual));
    return stored && this.record(userId, stored);
  }

  async current(userIds: readonly string[]): Promise<Map<string, PresenceRecord>> {
    // After this process's operations in flight for these users, so it reads what they wrote.
    await Promise.all(userIds.map((id) => this.queues.get(id)));
    const stored = await this.state.read(userIds);
    return new Map([...stored].map(([id, presence]) => [id, this.record(id, presence)]));
  }

  publish(change: PresenceChange): void {
    void this.inTurn(change.userId, async () => {
      await this.state.storeShown(change.userId, change.presence).catch((error: unknown) => this.log.warn({ err: error, userId: change.userId }, 'presence: could not store what a user is shown'));
      this.bus.publish(presenceStream(change.userId), change);
    });
  }

  watch(userIds: readonly string[], listener: (change: PresenceChange) => void): Unsubscribe {
    const stops = [...new Set(userIds)].map((id) => {
      let entry = this.watched.get(id);
      if (!entry) this.watched.set(id, (entry = { watchers: 0, last: null }));
      entry.watchers++;
      const watching = entry;
      const unsubscribe = this.bus.subscribe(presenceStream(id), (change) => {
        watching.last = change;
        listener(change);
      });
      return () => {
        unsubscribe();
        if (--watching.watchers === 0 && this.watched.get(id) === watching) this.watched.delete(id);
      };
    });
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      for (const stop of stops) stop();
    };
  }

  onOrphaned(listener: (userIds: readonly string[]) => void): void {
    this.orphaned = listener;
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.ticking;
    await Promise.all(this.queues.values());
    await this.state.close();
  }

  /**
   * Stops renewing the lease and sweeping without leaving the shared state, as a process killed with -9 would: its
   * counts stay until its lease runs out and another process sweeps them. For tests.
   */
  abandon(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /**
   * Renews the lease and writes this process's counts, then sweeps, after any heartbeat in progress; the timer
   * calls it every `heartbeatMs` (tests call it to beat now). Failures are logged, not thrown.
   */
  heartbeat(): Promise<void> {
    this.ticking = this.ticking.then(async () => {
      if (this.closed) return;
      try {
        await this.beat();
        const orphans = await this.state.sweep(this.options.offlineGraceMs);
        if (orphans.length > 0 && !this.closed) this.orphaned?.(orphans);
      } catch (error) {
        this.log.warn({ err: error }, 'presence: could not renew this process\'s lease or sweep lapsed processes');
      }
    });
    return this.ticking;
  }

  /** One tick at a time: a slow database skips beats instead of piling them up. */
  private tick(): void {
    void this.heartbeat();
  }

  /**
   * Writes the counts of the users with no operation in flight here (the others wait for the next beat), holding
   * their turns meanwhile: an operation of theirs that starts now runs after the write, so the two cannot cross.
   */
  private async beat(): Promise<void> {
    const counts = new Map([...this.localSockets].filter(([userId]) => !this.queues.has(userId)));
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    for (const userId of counts.keys()) this.queues.set(userId, held);
    try {
      await this.state.beat(counts);
      // Written: a user with no socket here need not be listed any more.
      for (const [userId, open] of counts) if (open === 0 && this.localSockets.get(userId) === 0) this.localSockets.delete(userId);
    } finally {
      release();
      for (const userId of counts.keys()) if (this.queues.get(userId) === held) this.queues.delete(userId);
    }
  }

  /** Runs `operation` after the user's operations queued before it. */
  private inTurn<T>(userId: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(userId) ?? Promise.resolve();
    const result = previous.then(operation, operation);
    const settled = result.catch(() => {});
    this.queues.set(userId, settled);
    void settled.then(() => {
      if (this.queues.get(userId) === settled) this.queues.delete(userId);
    });
    return result;
  }

  /** The record of a stored state, with the change last heard when it is what the user is shown. */
  private record(userId: string, stored: SharedPresence): PresenceRecord {
    const last = this.watched.get(userId)?.last;
    const same = last && stored.shown && last.presence.status === stored.shown.status && last.presence.lastSeenAt?.getTime() === stored.shown.lastSeenAt?.getTime();
    return same ? { ...stored, shown: last.presence, lastChange: last } : { ...stored, lastChange: null };
  }
}
