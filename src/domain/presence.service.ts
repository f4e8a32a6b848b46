import type { DataSource } from 'typeorm';
import { isUuid } from '../db/ids.js';
import type DataLoader from 'dataloader';
import { loadPresenceRows, storeLastSeen, type PresenceKey, type PresenceRow } from '../db/queries/presence-rows.js';
import type { Logger } from '../logger.js';
import type { PresenceRecord, PresenceStore } from '../realtime/presence-store.js';
import type { Unsubscribe } from '../realtime/stream-event-bus.js';
import type { CancelTimer, Clock } from './clock.js';
import { BadUserInputError, NotFoundError } from './errors.js';
import { inFlightBatchLoader } from './in-flight-batch-loader.js';
import type { Presence, PresenceChange, PresenceStatus } from './presence.js';
import { isPresent, OFFLINE_UNSEEN, presenceIn, statusOf, visiblePresence } from './presence-rules.js';
import { ThrottledSignal } from './throttled-signal.js';
import type { Viewer } from './viewer.js';

/** Most distinct users one `presence` subscription may follow. */
export const PRESENCE_MAX_USERS = 100;

/**
 * How an opened socket was counted: `counted` (its close must be reported to `disconnected`), `uncounted` (let in
 * while the store could not be reached: its close must not be, or it would take away a socket counted elsewhere),
 * or `overCap` (refused, nothing counted).
 */
export type SocketCount = 'counted' | 'uncounted' | 'overCap';

export interface PresenceOptions {
  /** How long after a user's last socket closed the user turns OFFLINE (PRESENCE_OFFLINE_GRACE). */
  offlineGraceMs: number;
  /** At most one change per user per this interval reaches subscribers, the latest state (PRESENCE_THROTTLE). */
  throttleMs: number;
}

/**
 * Who is online: the rules of presence over a PresenceStore. The WebSocket transport reports each authenticated
 * socket's open and close; a user is ONLINE while connected, or AWAY / OFFLINE when they said so, and OFFLINE once
 * the last socket has been gone for the grace period. A change is published only when the status others see
 * really changes, at most once per user per throttle interval with the latest state (ThrottledSignal); a reconnect
 * within the grace period publishes nothing. `lastSeenAt` is written to PostgreSQL only when OFFLINE is published,
 * never per connection or heartbeat. Grace and throttle run on the injected clock.
 */
export class PresenceService {
  private readonly signal: ThrottledSignal<PresenceStatus>;
  private readonly graceTimers = new Map<string, CancelTimer>();
  /** Work started by socket events and timers, awaited by `dispose` so nothing runs after the pool closes. */
  private readonly pending = new Set<Promise<void>>();
  /** Running `presence` subscriptions by viewer, told when a user they watch blocks or unblocks their viewer. */
  private readonly followsOf = new Map<string, Set<BlockAwareFollow>>();
  /** Per user, the publish in progress: a user's changes are published in the order the throttle let them through. */
  private readonly showing = new Map<string, Promise<void>>();
  private disposed = false;
  /**
   * Rows of subscriptions and User.presence loads that start while another read is in flight, or within 10 ms of
   * the last one, share the next statement: a reconnect storm costs a round trip per batch, not per subscription.
   */
  private readonly rows: DataLoader<PresenceKey, PresenceRow | null>;

  constructor(
    private readonly db: DataSource,
    private readonly store: PresenceStore,
    private readonly clock: Clock,
    private readonly options: PresenceOptions,
    private readonly log: Logger,
  ) {
    this.rows = inFlightBatchLoader((keys) => loadPresenceRows(db.manager, keys), { maxBatchSize: 5000, collectMs: 10 });
    this.signal = new ThrottledSignal<PresenceStatus>(clock, options.throttleMs, (userId, status) => this.track(this.showInTurn(userId, status)));
    store.onOrphaned?.((userIds) => {
      for (const userId of userIds) if (!this.disposed) this.track(this.settle(userId));
    });
  }

  /**
   * An authenticated socket of the user opened: counted unless the user has `maxSockets` open already (across every
   * process of a shared store; 0: no cap), then `overCap` and nothing counted. Ends a running grace period,
   * silently. When the store cannot be reached the socket is let in `uncounted` (logged): presence and the cap fail
   * open rather than refusing every connection, and its close is not reported (a shared store's next heartbeat
   * undoes whatever of the failed count landed).
   */
  async connected(userId: string, maxSockets = 0): Promise<SocketCount> {
    if (this.disposed) return 'uncounted';
    this.graceTimers.get(userId)?.();
    this.graceTimers.delete(userId);
    let record: PresenceRecord | null;
    try {
      record = await this.store.connected(userId, maxSockets);
    } catch (error) {
      this.log.warn({ err: error, userId }, 'presence: could not count a socket; it is let in uncounted');
      return 'uncounted';
    }
    if (!record) return 'overCap';
    if (this.disposed) return 'counted';
    // The first socket after the grace period ran out starts afresh: a status set before has lapsed with it.
    const lapsed = record.goneAt !== null && this.clock.now() - record.goneAt.getTime() >= this.options.offlineGraceMs;
    if (record.sockets === 1 && record.manual && lapsed) {
      this.track(this.store.setManual(userId, null).then(() => this.settle(userId)));
    } else {
      // The record the count came back with is current: the throttle has the status before the socket is acknowledged.
      this.setSignal(userId, record, statusOf(record, this.clock.now(), this.options.offlineGraceMs));
      // And a change it sent at once is stored before: whoever subscribes after the ack finds the user ONLINE.
      await this.showing.get(userId)?.catch(() => {});
    }
    return 'counted';
  }

  /**
   * A counted socket of the user closed. The last one (across processes) starts the grace period here. When the
   * store cannot be reached, a shared store's next heartbeat counts it off, and its sweep ends the grace period.
   */
  disconnected(userId: string): void {
    if (this.disposed) return;
    const at = this.clock.now();
    this.track(
      (async () => {
        const record = await this.store.disconnected(userId, new Date(at));
        if (record.sockets > 0 || this.disposed) return;
        this.graceTimers.get(userId)?.();
        this.graceTimers.delete(userId);
        // The period runs from the close, not from when the store answered (a shared store takes a round trip).
        const left = at + this.options.offlineGraceMs - this.clock.now();
        if (left <= 0) return this.settle(userId);
        const timer = this.clock.schedule(left, () => {
          if (this.graceTimers.get(userId) === timer) this.graceTimers.delete(userId);
          this.track(this.settle(userId));
        });
        this.graceTimers.set(userId, timer);
      })(),
    );
  }

  /**
   * Sets the viewer's manual status (ONLINE clears it). It lasts while the viewer is connected and through the
   * grace period; a viewer without a socket is OFFLINE whatever they set, and nothing is kept. Resolves to the
   * viewer's presence as others see it now, or within PRESENCE_THROTTLE when a change was just sent.
   */
  async setStatus(viewer: Viewer, status: PresenceStatus): Promise<Presence> {
    const now = this.clock.now();
    const record = (await this.store.current([viewer.id])).get(viewer.id);
    if (!record || !isPresent(record, now, this.options.offlineGraceMs)) {
      return (await this.presenceOf(null, [viewer.id])).get(viewer.id) ?? OFFLINE_UNSEEN;
    }
    // Setting the same status again keeps its time: repeating OFFLINE must not move the lastSeenAt others see.
    const manual = status === 'ONLINE' ? null : record.manual?.status === status ? record.manual : { status, since: new Date(now) };
    const updated = (await this.store.setManual(viewer.id, manual)) ?? record;
    const shown = statusOf(updated, now, this.options.offlineGraceMs);
    this.setSignal(viewer.id, updated, shown);
    return presenceIn(shown, updated, now);
  }

  /**
   * Users' presence as `viewer` sees it (null: anonymous), for User.presence: what subscribers were last sent, or
   * PostgreSQL's last_seen_at for users not seen since start; OFFLINE without a time for deleted accounts and for
   * users who blocked the viewer. Ids of no user are missing from the map.
   */
  async presenceOf(viewer: Viewer | null, userIds: readonly string[]): Promise<Map<string, Presence>> {
    const [rows, records] = await Promise.all([this.rowsOf(userIds, viewer), this.store.current(userIds)]);
    return new Map(rows.map((row) => [row.id, visiblePresence(row, records.get(row.id))]));
  }

  /**
   * The `presence` subscription: the current presence of each of `userIds` (duplicates ignored), in the order
   * given, then every change of theirs, each a real change for this subscriber. A user who has blocked the viewer
   * (and a deleted account) is OFFLINE without changes; a block made or lifted while it runs (see blockChanged)
   * turns the user OFFLINE for it, or back to what others see. The returned function stops it.
   * @throws BadUserInputError for no ids or more than PRESENCE_MAX_USERS distinct ones; NotFoundError when an id
   *   names no user.
   */
  async follow(viewer: Viewer, userIds: readonly string[], deliver: (change: PresenceChange) => void): Promise<Unsubscribe> {
    const ids = [...new Set(userIds)];
    if (ids.length === 0 || ids.length > PRESENCE_MAX_USERS) {
      throw new BadUserInputError(`Give 1 to ${PRESENCE_MAX_USERS} distinct user ids`, 'userIds');
    }
    if (!ids.every(isUuid)) throw new NotFoundError('User');

    let hidden: Set<string> | undefined; // set once the current state has been delivered
    const early: PresenceChange[] = [];
    const lastSent = new Map<string, PresenceStatus>();
    const sendIfChanged = (change: PresenceChange) => {
      if (lastSent.get(change.userId) === change.presence.status) return;
      lastSent.set(change.userId, change.presence.status);
      deliver(change);
    };
    const forward = (change: PresenceChange) => {
      if (!hidden?.has(change.userId)) sendIfChanged(change);
    };
    // Watch before reading the state, so no change falls between the two; one seen meanwhile waits, and is
    // dropped if the state read already showed it.
    const unwatch = this.store.watch(ids, (change) => (hidden ? forward(change) : early.push(change)));
    try {
      const [rows, records] = await Promise.all([this.rowsOf(ids, viewer), this.store.current(ids)]);
      const byId = new Map(rows.map((row) => [row.id, row]));
      if (byId.size < ids.length) throw new NotFoundError('User');
      for (const id of ids) {
        const row = byId.get(id)!;
        const record = records.get(id);
        const presence = visiblePresence(row, record);
        lastSent.set(id, presence.status);
        // The change last published, when that is what this viewer sees: the same object for every new watcher.
        const published = record?.lastChange;
        const current = published?.presence === presence && published.user ? published : { userId: id, presence, user: { id, username: row.username, deleted: row.deleted } };
        deliver(current);
      }
      hidden = new Set(rows.filter((row) => row.deleted || row.blocksViewer).map((row) => row.id));
      for (const change of early.splice(0)) forward(change);
    } catch (error) {
      unwatch();
      throw error;
    }
    const hiddenNow = hidden;
    const follow: BlockAwareFollow = {
      ids: new Set(ids),
      blockedBy: (userId, blocked) => {
        if (blocked) {
          if (hiddenNow.has(userId)) return;
          hiddenNow.add(userId);
          sendIfChanged({ userId, presence: OFFLINE_UNSEEN });
          return;
        }
        if (!hiddenNow.delete(userId)) return;
        // Back to what everyone else sees, read now.
        this.track(
          this.presenceOf(viewer, [userId]).then((found) => {
            const presence = found.get(userId);
            if (presence && !hiddenNow.has(userId)) sendIfChanged({ userId, presence });
          }),
        );
      },
    };
    let follows = this.followsOf.get(viewer.id);
    if (!follows) this.followsOf.set(viewer.id, (follows = new Set()));
    follows.add(follow);
    return () => {
      unwatch();
      const mine = this.followsOf.get(viewer.id);
      if (mine?.delete(follow) && mine.size === 0) this.followsOf.delete(viewer.id);
    };
  }

  /**
   * `blockerId` blocked (or unblocked) `blockedId`: the blocked user's running subscriptions that watch the blocker
   * now see the blocker OFFLINE (or again as others do). This process's subscriptions only.
   */
  blockChanged(blockerId: string, blockedId: string, blocked: boolean): void {
    for (const follow of this.followsOf.get(blockedId) ?? []) {
      if (follow.ids.has(blockerId)) follow.blockedBy(blockerId, blocked);
    }
  }

  /**
   * Stops timers and waits for work in flight, before the database pool closes. Users whose grace period the stop
   * cut short get their last_seen_at (when their socket closed), as its end would have written.
   */
  async dispose(): Promise<void> {
    this.disposed = true;
    const inGrace = [...this.graceTimers.keys()];
    for (const cancel of this.graceTimers.values()) cancel();
    this.graceTimers.clear();
    this.signal.clear();
    while (this.pending.size > 0) await Promise.all(this.pending);
    const records = await this.store.current(inGrace);
    const seen = [...records]
      .filter(([, record]) => record.sockets === 0 && record.goneAt && record.manual?.status !== 'OFFLINE')
      .map(([userId, record]) => ({ userId, at: record.goneAt! }));
    await storeLastSeen(this.db.manager, seen).catch((error: unknown) => this.log.warn({ err: error }, 'presence: could not store last seen times at stop'));
    await this.store.dispose?.().catch((error: unknown) => this.log.warn({ err: error }, 'presence: could not leave the shared presence state'));
  }

  /** Hands the status the user's record now calls for to the throttle, which publishes it if it is a change. */
  private async settle(userId: string): Promise<void> {
    const record = (await this.store.current([userId])).get(userId);
    if (record && !this.disposed) this.setSignal(userId, record, statusOf(record, this.clock.now(), this.options.offlineGraceMs));
  }

  /**
   * Hands `status` to the throttle. With a shared store another process may have published since this one last
   * did: when what everyone was last shown differs from what this process last sent (and no publish of its own is
   * in flight), the throttle's memory is stale and is dropped, so an equal value is not mistaken for no change.
   */
  private setSignal(userId: string, record: PresenceRecord, status: PresenceStatus): void {
    const sent = this.signal.lastSent(userId);
    if (sent !== undefined && record.shown && record.shown.status !== sent && !this.showing.has(userId)) this.signal.forget(userId);
    this.signal.set(userId, status);
  }

  /**
   * Publishes a status the throttle let through, with the user's row read once for all its subscribers. OFFLINE
   * stores when the user was last seen first, so that whoever hears of it finds it in PostgreSQL too. A failed
   * read or write is logged and the change published all the same.
   */
  private showInTurn(userId: string, status: PresenceStatus): Promise<void> {
    // An OFFLINE stores lastSeenAt before it is published; a later ONLINE must not overtake it and be overwritten.
    const previous = this.showing.get(userId) ?? Promise.resolve();
    const turn = previous.catch(() => {}).then(() => this.show(userId, status));
    this.showing.set(userId, turn);
    void turn.finally(() => {
      if (this.showing.get(userId) === turn) this.showing.delete(userId);
    }).catch(() => {});
    return turn;
  }

  private async show(userId: string, status: PresenceStatus): Promise<void> {
    const record: PresenceRecord | undefined = (await this.store.current([userId])).get(userId);
    if (!record || this.disposed) return;
    // The throttle's status was worked out from an earlier read. When this one calls for another (the user
    // reconnected through another process as the grace period ended here), that goes through the throttle instead.
    const current = statusOf(record, this.clock.now(), this.options.offlineGraceMs);
    if (current !== status) return this.setSignal(userId, record, current);
    // Already what everyone is shown (another process of a shared store may have published it): nothing to send.
    if (record.shown?.status === status) return;
    const presence = presenceIn(status, record, this.clock.now());
    const warn = (what: string) => (error: unknown) => this.log.warn({ err: error, userId }, `presence: could not ${what}`);
    if (presence.lastSeenAt) await storeLastSeen(this.db.manager, [{ userId, at: presence.lastSeenAt }]).catch(warn('store when the user was last seen'));
    const [row] = await this.rowsOf([userId], null).catch((error: unknown) => (warn('read the user')(error), []));
    if (this.disposed) return;
    this.store.publish({ userId, presence, ...(row ? { user: { id: userId, username: row.username, deleted: row.deleted } } : {}) });
    // Another process may have changed the record since it was read (a socket opened there, which found the user
    // still shown present and so sent nothing): read it again now that this change is stored, and correct it.
    const after = (await this.store.current([userId])).get(userId);
    if (after && !this.disposed) this.setSignal(userId, after, statusOf(after, this.clock.now(), this.options.offlineGraceMs));
  }

  /** The rows of those of `userIds` that name a user. */
  private async rowsOf(userIds: readonly string[], viewer: Viewer | null): Promise<PresenceRow[]> {
    const rows = await this.rows.loadMany(userIds.map((userId) => ({ userId, viewerId: viewer?.id ?? null })));
    return rows.flatMap((row) => {
      if (row instanceof Error) throw row;
      return row ? [row] : [];
    });
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((error: unknown) => this.log.error({ err: error }, 'presence update failed'))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }
}

/** A running `presence` subscription, as a block made or lifted by one of the users it watches reaches it. */
interface BlockAwareFollow {
  readonly ids: ReadonlySet<string>;
  blockedBy(userId: string, blocked: boolean): void;
}
