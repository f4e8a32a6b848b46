import type { DataSource } from 'typeorm';
import type { Message } from '../db/entities/message.entity.js';
import { isUuid } from '../db/ids.js';
import { latestMessagesOf } from '../db/queries/latest-messages.js';
import { latestUserEventSeq, loadInboxStarts, readUserEventPage, type InboxStart } from '../db/queries/user-log.js';
import type DataLoader from 'dataloader';
import { inFlightBatchLoader } from './in-flight-batch-loader.js';
import type { Unsubscribe } from '../realtime/stream-event-bus.js';
import type { StreamFanOut } from '../realtime/stream-fan-out.js';
import { userStream } from '../realtime/stream-keys.js';
import type { EventSink } from '../realtime/stream-subscriber.js';
import type { RoomActivity } from './room-activity.js';
import type { DeliveredUserEvent } from './user-events.js';
import { decodeInboxCursor, encodeInboxCursor, requireInboxReached } from './cursor.js';
import { pageInfoOf, toSeqPageQuery, type HistoryArgs, type MessagePage } from './message-history.js';
import type { PersistedUserEvent } from './user-events.js';
import { readUserEventsAfter, toPersistedUserEvent } from './user-log.js';
import type { Viewer } from './viewer.js';

export interface InboxPage {
  /** Ascending seq order, whichever direction was paged. */
  edges: { cursor: string; node: PersistedUserEvent }[];
  pageInfo: MessagePage['pageInfo'];
}

export interface InboxOptions {
  /** Most persisted events a resume replays before InboxResyncRequired is sent instead (REPLAY_LIMIT). */
  replayLimit: number;
}

/**
 * The viewer's own log: followed live (`inbox`, through the same subscriber, catch-up and fan-out code as a room's
 * stream, plus the ephemeral RoomActivity of their rooms), and read as pages (`inboxEvents`, `inboxCursor`).
 */
export class InboxService {
  /**
   * Where each starting inbox begins (latest seq, rooms to watch): inboxes that start together (a reconnect storm)
   * share one statement, read after each has begun listening.
   */
  private readonly starts: DataLoader<string, InboxStart>;

  constructor(
    private readonly db: DataSource,
    private readonly fanOut: StreamFanOut<DeliveredUserEvent>,
    private readonly activity: RoomActivity,
    private readonly options: InboxOptions,
  ) {
    this.starts = inFlightBatchLoader(
      async (userIds) => {
        const starts = await loadInboxStarts(this.db.manager, userIds);
        return userIds.map((id) => starts.get(id) ?? { lastEventSeq: 0, roomIds: [] });
      },
      { maxBatchSize: 500, collectMs: 10 },
    );
  }

  /**
   * The viewer's inbox: every persisted event of their log exactly once in seq order, with `after` replaying what
   * came after that cursor first (at most REPLAY_LIMIT events: beyond, an InboxResyncRequired comes first and the
   * stream continues live), plus RoomActivity of their rooms while it runs; once the replay is done and every room
   * of the viewer is watched, one InboxLive (reading `rooms` after it misses no activity). Events and the end go
   * to `sink`; the returned function unsubscribes.
   * @throws BadUserInputError for a bad cursor, another user's, or one ahead of the inbox.
   */
  async follow(viewer: Viewer, after: string | null | undefined, sink: EventSink<DeliveredUserEvent>): Promise<Unsubscribe> {
    const afterSeq = after != null ? decodeInboxCursor(after, viewer.id, 'after') : undefined;
    let stopActivity: Unsubscribe = () => {};
    // Listen first, then read the latest seq: a safe starting point, nothing committed after it can be missed.
    const { subscriber, unsubscribe } = this.fanOut.subscribe({
      stream: userStream(viewer.id),
      sink: {
        deliver: (event) => sink.deliver(event),
        end: (error) => {
          stopActivity();
          sink.end(error);
        },
      },
      afterSeq,
      log: { readAfter: (seq, limit) => readUserEventsAfter(this.db.manager, viewer.id, seq, limit) },
      replayLimit: this.options.replayLimit,
      tooFarBehind: (lastSeq) => ({ kind: 'INBOX_RESYNC_REQUIRED', userId: viewer.id, at: new Date(), lastSeq }),
    });
    // Read (batched, on a later turn) once the subscriber and the activity watch listen.
    const start = this.starts.load(viewer.id);
    const activity = this.activity.watch(
      viewer.id,
      start.then((s) => ({ roomIds: s.roomIds, asOfSeq: s.lastEventSeq })),
    );
    stopActivity = activity.stop;
    const stop = () => {
      unsubscribe();
      stopActivity();
    };
    try {
      const { lastEventSeq } = await start;
      if (afterSeq !== undefined) requireInboxReached(afterSeq, lastEventSeq, 'after');
      void subscriber
        .start(lastEventSeq)
        .then(() => activity.ready)
        .then(() => {
          if (subscriber.state !== 'ended') void sink.deliver({ kind: 'INBOX_LIVE', userId: viewer.id, at: new Date() });
        });
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  /** The newest message that is not deleted of each room, by room id (rooms the caller may show: no access check). */
  async latestMessages(roomIds: readonly string[]): Promise<Map<string, Message>> {
    const messages = await latestMessagesOf(this.db.manager, roomIds.filter(isUuid));
    return new Map(messages.map((message) => [message.roomId, message]));
  }

  /** The cursor of the viewer's latest inbox event (also while there is none). */
  async cursor(viewer: Viewer): Promise<string> {
    return encodeInboxCursor(viewer.id, await latestUserEventSeq(this.db.manager, viewer.id));
  }

  /**
   * A page of the viewer's inbox events, as `messages` pages a room's history.
   * @throws BadUserInputError for bad paging arguments, another user's cursor or one ahead of the inbox.
   */
  async events(viewer: Viewer, args: HistoryArgs): Promise<InboxPage> {
    const needsLatest = args.after != null || args.before != null;
    const lastSeq = needsLatest ? await latestUserEventSeq(this.db.manager, viewer.id) : 0;
    const query = toSeqPageQuery(args, (cursor, name) => requireInboxReached(decodeInboxCursor(cursor, viewer.id, name), lastSeq, name));
    const { records, more, beyondStart } = await readUserEventPage(this.db.manager, viewer.id, query);
    const edges = records.map((record) => ({ cursor: encodeInboxCursor(viewer.id, record.seq), node: toPersistedUserEvent(record) }));
    return { edges, pageInfo: pageInfoOf(query, edges, more, beyondStart) };
  }
}
