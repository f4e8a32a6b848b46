import type DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import type { Unsubscribe } from '../realtime/stream-event-bus.js';
import type { StreamFanOut } from '../realtime/stream-fan-out.js';
import type { Decision, EventSink } from '../realtime/stream-subscriber.js';
import { roomStream } from '../realtime/stream-keys.js';
import { decodeCursor, requireReached } from './cursor.js';
import { ForbiddenError } from './errors.js';
import { inFlightBatchLoader } from './in-flight-batch-loader.js';
import { loadRoomAccesses, type RoomAccess, type RoomAccessKey } from '../db/queries/room-accesses.js';
import { membershipOrFail } from './room-access.js';
import type { DeliveredRoomEvent } from './room-events.js';
import { readRoomEventsAfter } from './room-log.js';
import type { Viewer } from './viewer.js';

export interface RoomStreamOptions {
  /** Most persisted events a resume replays before ResyncRequired is sent instead (REPLAY_LIMIT). */
  replayLimit: number;
}

/** Which events a subscription wants: the whole stream, or only new messages (the `messageAdded` view). */
export type RoomStreamView = 'all' | 'messages';

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
    private readonly fanOut: StreamFanOut<DeliveredRoomEvent>,
    private readonly options: RoomStreamOptions,
  ) {
    this.accesses = inFlightBatchLoader((keys) => loadRoomAccesses(this.db.manager, keys), { maxBatchSize: 500, collectMs: 10 });
  }

  /**
   * The room's events for a member, each persisted one exactly once in seq order; with `after`, every event after
   * that cursor is replayed first (for the full view, at most REPLAY_LIMIT of them: beyond that a ResyncRequired
   * comes first and the stream continues live). Ends with a ForbiddenError as soon as the viewer leaves or is
   * removed, delivering nothing committed after that. Events and the end go to `sink`, whoever provides it (the
   * transport writing frames itself, or a queue graphql-js pulls from); the returned function unsubscribes.
   * @throws NotFoundError for a room the viewer cannot see; ForbiddenError for a non-member; BadUserInputError
   *   for a bad cursor or one ahead of the room.
   */
  async follow(
    viewer: Viewer,
    roomId: string,
    after: string | null | undefined,
    view: RoomStreamView,
    sink: EventSink<DeliveredRoomEvent>,
  ): Promise<Unsubscribe> {
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
    // Listen first, then check membership: the room's lastSeq read by that check is then a safe starting point,
    // and one statement does for both.
    let direct = false; // set by the membership check, before any event is delivered
    const registration = this.fanOut.subscribe({
      stream: roomStream(roomId),
      sink: perViewerInDirectRooms(sink, viewer, () => direct),
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
    const { unsubscribe } = registration;
    try {
      const access = membershipOrFail(await this.accesses.load({ viewerId: viewer.id, roomId }));
      joinedSeq = access.joinedSeq;
      direct = access.room.kind === 'DIRECT';
      if (afterSeq !== undefined) requireReached(afterSeq, access.room.lastSeq, 'after');
      void registration.subscriber.start(access.room.lastSeq);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    return unsubscribe;
  }
}

/**
 * A sink whose group is its viewer's own in a DIRECT room: fields marked @viewerDependentInDirectRooms (a DM's name
 * and peer) differ between its two participants, and two viewers cost at most two renders.
 */
function perViewerInDirectRooms(sink: EventSink<DeliveredRoomEvent>, viewer: Viewer, isDirect: () => boolean): EventSink<DeliveredRoomEvent> {
  if (sink.groupKey === undefined) return sink;
  return {
    get groupKey() {
      return isDirect() && sink.groupKey !== undefined ? `${sink.groupKey}\u0000viewer:${viewer.id}` : sink.groupKey;
    },
    deliver: (event) => sink.deliver(event),
    ...(sink.render ? { render: (event: DeliveredRoomEvent) => sink.render!(event) } : {}),
    writeRendered: sink.writeRendered,
    end: (error) => sink.end(error),
  };
}
