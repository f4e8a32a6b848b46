import type DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import { EventQueue } from '../realtime/event-queue.js';
import type { RoomFanOut } from '../realtime/room-fan-out.js';
import type { Decision, EventSink } from '../realtime/room-subscriber.js';
import { decodeCursor, requireReached } from './cursor.js';
import { ForbiddenError } from './errors.js';
import { inFlightBatchLoader } from './in-flight-batch-loader.js';
import { loadRoomAccesses, membershipOrFail, type RoomAccess, type RoomAccessKey } from './room-access.js';
import type { DeliveredRoomEvent } from './room-events.js';
import { readRoomEventsAfter } from './room-log.js';
import type { Viewer } from './viewer.js';

export interface RoomStreamOptions {
  /** Most persisted events a resume replays before ResyncRequired is sent instead (REPLAY_LIMIT). */
  replayLimit: number;
}

/** Which events a subscription wants: the whole stream, or only new messages (the `messageAdded` view). */
export type RoomStreamView = 'all' | 'messages';

/**
 * How a subscription's events leave the server when the transport writes them itself: subscribers with equal
 * `groupKey` get identical bytes, so each event is rendered once per key, and `end` reports how the subscription
 * ended. Without one, events are handed to the caller as an async iterator and executed per subscriber.
 */
export type DirectDelivery = EventSink<DeliveredRoomEvent>;

/** Following a room: one subscriber of the room's fan-out per subscription, for members only. */
export class RoomStreamService {
  /**
   * Membership checks of subscriptions that start while another check is in flight, or within 10 ms of the last
   * one, share the next statement: a reconnect storm costs a round trip per batch, not per subscription. Each check
   * is made after its subscriber began listening.
   */
  private readonly accesses: DataLoader<RoomAccessKey, RoomAccess | null>;

  constructor(
    private readonly db: DataSource,
    private readonly fanOut: RoomFanOut<DeliveredRoomEvent>,
    private readonly options: RoomStreamOptions,
  ) {
    this.accesses = inFlightBatchLoader((keys) => loadRoomAccesses(this.db.manager, keys), { maxBatchSize: 500, collectMs: 10 });
  }

  /**
   * The room's events for a member, each persisted one exactly once in seq order; with `after`, every event after
   * that cursor is replayed first (for the full view, at most REPLAY_LIMIT of them: beyond that a ResyncRequired
   * comes first and the stream continues live). Ends with a ForbiddenError as soon as the viewer leaves or is
   * removed, delivering nothing committed after that. With `direct`, events and the end go to it and the returned
   * iterator yields nothing: it is only a handle whose `return()` unsubscribes.
   * @throws NotFoundError for a room the viewer cannot see; ForbiddenError for a non-member; BadUserInputError
   *   for a bad cursor or one ahead of the room.
   */
  async follow(
    viewer: Viewer,
    roomId: string,
    after: string | null | undefined,
    view: RoomStreamView,
    direct?: DirectDelivery,
  ): Promise<AsyncGenerator<DeliveredRoomEvent, void>> {
    const afterSeq = after != null ? decodeCursor(after, roomId, 'after') : undefined;
    let joinedSeq = 0; // set by the membership check below, before any event is decided
    const decide = (event: DeliveredRoomEvent): Decision => {
      const endsMembership = event.kind === 'MEMBER_LEFT' || event.kind === 'MEMBER_REMOVED';
      // An earlier membership's end (before a re-join) is history like any other event.
      if (endsMembership && event.targetUserId === viewer.id && event.seq > joinedSeq) {
        return new ForbiddenError('You are no longer a member of this room');
      }
      if (view === 'messages') return event.kind === 'MESSAGE_ADDED' ? 'deliver' : 'skip';
      if (event.kind === 'TYPING_CHANGED' && event.userId === viewer.id) return 'skip'; // typing is for the others
      return 'deliver';
    };
    let unsubscribe = () => {};
    const queue = new EventQueue<DeliveredRoomEvent>(() => unsubscribe());
    const sink: EventSink<DeliveredRoomEvent> = direct ?? { deliver: (event) => queue.push(event), end: (error) => queue.end(error) };
    // Listen first, then check membership: the room's lastSeq read by that check is then a safe starting point,
    // and one statement does for both.
    const registration = this.fanOut.subscribe({
      roomId,
      sink,
      afterSeq,
      decide,
      log: { readAfter: (seq, limit) => readRoomEventsAfter(this.db.manager, roomId, seq, limit) },
      ...(view === 'all'
        ? {
            replayLimit: this.options.replayLimit,
            tooFarBehind: (lastSeq: number) => ({ kind: 'RESYNC_REQUIRED' as const, roomId, at: new Date(), lastSeq }),
          }
        : {}),
    });
    unsubscribe = registration.unsubscribe;
    try {
      const access = membershipOrFail(await this.accesses.load({ viewerId: viewer.id, roomId }));
      joinedSeq = access.joinedSeq;
      if (afterSeq !== undefined) requireReached(afterSeq, access.room.lastSeq, 'after');
      void registration.subscriber.start(access.room.lastSeq);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return queue;
  }
}
