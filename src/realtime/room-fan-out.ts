import { FanOutCounters } from './fan-out-counters.js';
import type { RoomEventBus, Unsubscribe } from './room-event-bus.js';
import { RoomSubscriber, type RoomSubscriberOptions, type Sequenced } from './room-subscriber.js';

interface Room<TEvent extends Sequenced> {
  readonly subscribers: Set<RoomSubscriber<TEvent>>;
  readonly stopListening: Unsubscribe;
  /** Events waiting for the room's pipeline, which handles one event at a time, in publish order. */
  readonly queue: TEvent[];
  draining: boolean;
  /** The seq the pipeline expects next (one past the highest passed on); undefined until the first one. */
  nextSeq: number | undefined;
  /** Persisted events that arrived ahead of `nextSeq`, held for the reorder grace, by seq. */
  readonly early: Map<number, TEvent>;
  earlyTimer: NodeJS.Timeout | undefined;
}

export interface RoomFanOutOptions {
  /**
   * How long an event that arrives ahead of an earlier seq waits for it (publishers on different connections may
   * publish in another order than they committed). Put back in order, each live event carries the state as of its
   * own seq; after the grace the subscribers fill the gap from the log. Default 50 ms.
   */
  reorderGraceMs?: number;
}

/**
 * Subscribers indexed by room, one bus listener per room. For each event it decides per subscriber (in order, with
 * gap and duplicate handling in RoomSubscriber), renders once per group of live subscribers that share a group
 * key, and writes the same payload to each of them. Only the room's own subscribers do any work for an event.
 */
export class RoomFanOut<TEvent extends Sequenced> {
  readonly counters = new FanOutCounters();
  private readonly rooms = new Map<string, Room<TEvent>>();

  private readonly reorderGraceMs: number;

  constructor(
    private readonly bus: RoomEventBus<TEvent>,
    options: RoomFanOutOptions = {},
  ) {
    this.reorderGraceMs = options.reorderGraceMs ?? 50;
  }

  /**
   * Registers a subscriber: from now on it receives the room's events (queued until the caller calls its `start`,
   * which replays first when it resumes). The returned function removes it; it also leaves the index by itself
   * when it ends.
   */
  subscribe(options: RoomSubscriberOptions<TEvent>): { subscriber: RoomSubscriber<TEvent>; unsubscribe: () => void } {
    const { sink } = options;
    const unsubscribe = () => {
      subscriber.stop();
      this.remove(subscriber);
    };
    const subscriber = new RoomSubscriber<TEvent>({
      ...options,
      sink: {
        // Read when an event is fanned out: a sink may learn its group only once its subscription has started.
        get groupKey() {
          return sink.groupKey;
        },
        deliver: async (event) => {
          this.counters.singleDeliveries++;
          await sink.deliver(event);
        },
        ...(sink.render ? { render: sink.render.bind(sink) } : {}),
        ...(sink.writeRendered ? { writeRendered: sink.writeRendered.bind(sink) } : {}),
        end: (error) => {
          unsubscribe();
          sink.end(error);
        },
      },
    });
    this.roomOf(options.roomId).subscribers.add(subscriber);
    return { subscriber, unsubscribe };
  }

  /** Number of subscribers of a room (0 for a room nobody follows). */
  subscriberCount(roomId: string): number {
    return this.rooms.get(roomId)?.subscribers.size ?? 0;
  }

  /** Number of subscribers in all rooms. */
  totalSubscribers(): number {
    let total = 0;
    for (const room of this.rooms.values()) total += room.subscribers.size;
    return total;
  }

  /** Number of rooms with at least one subscriber. */
  roomCount(): number {
    return this.rooms.size;
  }

  private roomOf(roomId: string): Room<TEvent> {
    let room = this.rooms.get(roomId);
    if (!room) {
      const created: Room<TEvent> = {
        subscribers: new Set(),
        queue: [],
        draining: false,
        nextSeq: undefined,
        early: new Map(),
        earlyTimer: undefined,
        stopListening: this.bus.subscribe(roomId, (event) => this.arrived(created, event)),
      };
      room = created;
      this.rooms.set(roomId, room);
    }
    return room;
  }

  private remove(subscriber: RoomSubscriber<TEvent>): void {
    const roomId = subscriber.options.roomId;
    const room = this.rooms.get(roomId);
    if (!room?.subscribers.delete(subscriber)) return;
    if (room.subscribers.size === 0) {
      room.stopListening();
      room.queue.length = 0;
      clearTimeout(room.earlyTimer);
      this.rooms.delete(roomId);
    }
  }

  /** Takes an event from the bus: in seq order into the room's pipeline, or held briefly when it came early. */
  private arrived(room: Room<TEvent>, event: TEvent): void {
    const { seq } = event;
    if (seq === undefined || room.nextSeq === undefined || seq <= room.nextSeq) {
      this.enqueue(room, event);
      return;
    }
    room.early.set(seq, event);
    // After the grace, one more turn of the event loop: when the loop was busy, the missing event's commit may be
    // waiting to be read, and timers run before I/O.
    room.earlyTimer ??= setTimeout(() => setImmediate(() => this.releaseEarly(room)), this.reorderGraceMs);
  }

  /** Queues an event for the pipeline, then any held events it makes consecutive. */
  private enqueue(room: Room<TEvent>, event: TEvent): void {
    room.queue.push(event);
    if (event.seq !== undefined) room.nextSeq = Math.max(room.nextSeq ?? 0, event.seq + 1);
    for (let next = room.early.get(room.nextSeq!); next !== undefined; next = room.early.get(room.nextSeq!)) {
      room.early.delete(room.nextSeq!);
      room.queue.push(next);
      room.nextSeq! += 1;
    }
    if (room.early.size === 0) {
      clearTimeout(room.earlyTimer);
      room.earlyTimer = undefined;
    }
    if (!room.draining) void this.drain(room);
  }

  /** The grace is over: the held events go on in seq order; subscribers fill what is missing from the log. */
  private releaseEarly(room: Room<TEvent>): void {
    room.earlyTimer = undefined;
    const held = [...room.early.keys()].sort((a, b) => a - b);
    for (const seq of held) {
      const event = room.early.get(seq);
      if (event === undefined) continue;
      room.early.delete(seq);
      this.enqueue(room, event);
    }
  }

  private async drain(room: Room<TEvent>): Promise<void> {
    room.draining = true;
    try {
      for (let event = room.queue.shift(); event !== undefined; event = room.queue.shift()) {
        this.counters.events++;
        await this.fanOut(room, event);
      }
    } finally {
      room.draining = false;
    }
  }

  private async fanOut(room: Room<TEvent>, event: TEvent): Promise<void> {
    const groups = new Map<string, RoomSubscriber<TEvent>[]>();
    const singles: RoomSubscriber<TEvent>[] = [];
    for (const subscriber of room.subscribers) {
      if (!subscriber.takeLive(event)) continue;
      const key = subscriber.sink.groupKey;
      if (key === undefined || !subscriber.sink.render || !subscriber.sink.writeRendered) {
        singles.push(subscriber);
        continue;
      }
      const group = groups.get(key);
      if (group) group.push(subscriber);
      else groups.set(key, [subscriber]);
    }
    for (const subscriber of singles) {
      try {
        await subscriber.sink.deliver(event);
      } catch (error) {
        subscriber.end(error);
      }
    }
    if (groups.size === 0) return;
    const rendered = await Promise.all(
      [...groups.values()].map(async (members) => {
        this.counters.groupRenders++;
        try {
          return await members[0]!.sink.render!(event); // every member would render the same bytes
        } catch (error) {
          for (const member of members) member.end(error);
          return undefined;
        }
      }),
    );
    let index = 0;
    for (const members of groups.values()) {
      const payload = rendered[index++];
      if (payload === undefined) continue;
      for (const member of members) {
        if (member.state === 'ended') continue;
        this.counters.groupedDeliveries++;
        member.sink.writeRendered!(payload);
      }
    }
  }
}
