import { FanOutCounters } from './fan-out-counters.js';
import type { StreamEventBus, Unsubscribe } from './stream-event-bus.js';
import { StreamSubscriber, type EventSink, type Grouping, type StreamSubscriberOptions, type Sequenced } from './stream-subscriber.js';

interface Stream<TEvent extends Sequenced> {
  readonly subscribers: Set<StreamSubscriber<TEvent>>;
  readonly stopListening: Unsubscribe;
  /** Events waiting for the stream's pipeline, which handles one event at a time, in publish order. */
  readonly queue: TEvent[];
  draining: boolean;
  /** The seq the pipeline expects next (one past the highest passed on); undefined until the first one. */
  nextSeq: number | undefined;
  /** Persisted events that arrived ahead of `nextSeq`, held for the reorder grace, by seq. */
  readonly early: Map<number, TEvent>;
  earlyTimer: NodeJS.Timeout | undefined;
}

export interface StreamFanOutOptions<TEvent> {
  /**
   * How long an event that arrives ahead of an earlier seq waits for it (publishers on different connections may
   * publish in another order than they committed). Put back in order, each live event carries the state as of its
   * own seq; after the grace the subscribers fill the gap from the log. Default 50 ms.
   */
  reorderGraceMs?: number;
  /**
   * Called once an event's payloads have been handed to every live subscriber's socket (commit-to-socket latency).
   */
  onFannedOut?: (event: TEvent) => void;
}

/**
 * Subscribers indexed by stream (a stream's log, a user's log: any stream with a gap-free seq), one bus listener per
 * stream. For each event it decides per subscriber (in order, with gap and duplicate handling in StreamSubscriber),
 * renders once per group of live subscribers that share a group key, and writes the same payload to each of them.
 * Only the stream's own subscribers do any work for an event.
 */
export class StreamFanOut<TEvent extends Sequenced> {
  readonly counters = new FanOutCounters();
  private readonly streams = new Map<string, Stream<TEvent>>();

  private readonly reorderGraceMs: number;

  constructor(
    private readonly bus: StreamEventBus<TEvent>,
    private readonly options: StreamFanOutOptions<TEvent> = {},
  ) {
    this.reorderGraceMs = options.reorderGraceMs ?? 50;
  }

  /**
   * The lowest seq the stream's live subscribers have handled (undefined: none is live): where a bus between
   * processes starts healing a stream it has not seen an event of yet.
   */
  lowestLiveSeq(key: string): number | undefined {
    let lowest: number | undefined;
    for (const subscriber of this.streams.get(key)?.subscribers ?? []) {
      if (subscriber.state === 'live' && (lowest === undefined || subscriber.lastSeq < lowest)) lowest = subscriber.lastSeq;
    }
    return lowest;
  }

  /**
   * Registers a subscriber: from now on it receives the stream's events (queued until the caller calls its `start`,
   * which replays first when it resumes). The returned function removes it; it also leaves the index by itself
   * when it ends.
   */
  subscribe(options: StreamSubscriberOptions<TEvent>): { subscriber: StreamSubscriber<TEvent>; unsubscribe: () => void } {
    const { sink } = options;
    const unsubscribe = () => {
      subscriber.stop();
      this.remove(subscriber);
    };
    const subscriber = new StreamSubscriber<TEvent>({
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
        writeRendered: sink.writeRendered,
        end: (error) => {
          unsubscribe();
          sink.end(error);
        },
      },
    });
    this.streamOf(options.stream).subscribers.add(subscriber);
    return { subscriber, unsubscribe };
  }

  /** Number of subscribers of a stream (0 for a stream nobody follows). */
  subscriberCount(stream: string): number {
    return this.streams.get(stream)?.subscribers.size ?? 0;
  }

  /** Number of subscribers of all streams. */
  totalSubscribers(): number {
    let total = 0;
    for (const stream of this.streams.values()) total += stream.subscribers.size;
    return total;
  }

  /** Number of streams with at least one subscriber. */
  streamCount(): number {
    return this.streams.size;
  }

  private streamOf(key: string): Stream<TEvent> {
    let stream = this.streams.get(key);
    if (!stream) {
      const created: Stream<TEvent> = {
        subscribers: new Set(),
        queue: [],
        draining: false,
        nextSeq: undefined,
        early: new Map(),
        earlyTimer: undefined,
        stopListening: this.bus.subscribe(key, (event) => this.arrived(key, created, event)),
      };
      stream = created;
      this.streams.set(key, stream);
    }
    return stream;
  }

  private remove(subscriber: StreamSubscriber<TEvent>): void {
    const key = subscriber.options.stream;
    const stream = this.streams.get(key);
    if (!stream?.subscribers.delete(subscriber)) return;
    if (stream.subscribers.size === 0) {
      stream.stopListening();
      stream.queue.length = 0;
      clearTimeout(stream.earlyTimer);
      this.streams.delete(key);
    }
  }

  /** Takes an event from the bus: in seq order into the stream's pipeline, or held briefly when it came early. */
  private arrived(key: string, stream: Stream<TEvent>, event: TEvent): void {
    const { seq, skipTo } = event;
    if (skipTo !== undefined) {
      // A resync: what it skips will not come; anything held up to it goes on first, so nothing waits for it.
      for (const held of [...stream.early.keys()].sort((a, b) => a - b)) {
        if (held > skipTo) break;
        this.enqueue(stream, stream.early.get(held)!);
        stream.early.delete(held);
      }
      stream.nextSeq = Math.max(stream.nextSeq ?? 0, skipTo + 1);
    }
    if (seq === undefined || stream.nextSeq === undefined || seq <= stream.nextSeq) {
      this.enqueue(stream, event);
      return;
    }
    stream.early.set(seq, event);
    // After the grace, one more turn of the event loop: when the loop was busy, the missing event's commit may be
    // waiting to be read, and timers run before I/O.
    stream.earlyTimer ??= setTimeout(() => setImmediate(() => void this.releaseEarly(key, stream)), this.reorderGraceMs);
  }

  /** Queues an event for the pipeline, then any held events it makes consecutive. */
  private enqueue(stream: Stream<TEvent>, event: TEvent): void {
    stream.queue.push(event);
    if (event.seq !== undefined) stream.nextSeq = Math.max(stream.nextSeq ?? 0, event.seq + 1);
    for (let next = stream.early.get(stream.nextSeq!); next !== undefined; next = stream.early.get(stream.nextSeq!)) {
      stream.early.delete(stream.nextSeq!);
      stream.queue.push(next);
      stream.nextSeq! += 1;
    }
    if (stream.early.size === 0) {
      clearTimeout(stream.earlyTimer);
      stream.earlyTimer = undefined;
    }
    if (!stream.draining) void this.drain(stream);
  }

  /**
   * The grace is over. The stream's log fills what is still missing before the first held event, read once for all
   * subscribers (a gap a bus between processes lost a hint for, or a publisher that failed after its commit); then
   * the held events go on in seq order. Whatever the read did not cover, each subscriber fills from the log itself.
   */
  private async releaseEarly(key: string, stream: Stream<TEvent>): Promise<void> {
    if (stream.early.size === 0) {
      stream.earlyTimer = undefined;
      return;
    }
    const first = Math.min(...stream.early.keys());
    const log = stream.subscribers.values().next().value?.options.log;
    if (log && stream.nextSeq !== undefined && first > stream.nextSeq) {
      try {
        const missing = await log.readAfter(stream.nextSeq - 1, Math.min(first - stream.nextSeq, 1000));
        for (const event of missing) if (event.seq !== undefined && event.seq < first) stream.early.set(event.seq, event);
      } catch {
        // the subscribers read it themselves
      }
    }
    stream.earlyTimer = undefined; // kept until now, so no second release starts during the read
    if (this.streams.get(key) !== stream) return;
    const held = [...stream.early.keys()].sort((a, b) => a - b);
    for (const seq of held) {
      const event = stream.early.get(seq);
      if (event === undefined) continue;
      stream.early.delete(seq);
      this.enqueue(stream, event);
    }
  }

  private async drain(stream: Stream<TEvent>): Promise<void> {
    stream.draining = true;
    try {
      for (let event = stream.queue.shift(); event !== undefined; event = stream.queue.shift()) {
        this.counters.events++;
        await this.fanOut(stream, event);
        this.options.onFannedOut?.(event);
      }
    } finally {
      stream.draining = false;
    }
  }

  private async fanOut(stream: Stream<TEvent>, event: TEvent): Promise<void> {
    const groups = new Map<string, StreamSubscriber<TEvent>[]>();
    const singles: StreamSubscriber<TEvent>[] = [];
    for (const subscriber of stream.subscribers) {
      if (!subscriber.takeLive(event)) continue;
      const grouping = (subscriber.grouping ??= groupingOf(subscriber.sink));
      if (grouping === false) {
        singles.push(subscriber);
        continue;
      }
      const group = groups.get(grouping.key);
      if (group) group.push(subscriber);
      else groups.set(grouping.key, [subscriber]);
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
        (member.grouping as Grouping).write(payload);
      }
    }
  }
}

/** A sink's group, read once (its first live event): false when its events go through `deliver` one by one. */
function groupingOf<TEvent>(sink: EventSink<TEvent>): Grouping | false {
  const key = sink.groupKey;
  if (key === undefined || !sink.render || !sink.writeRendered) return false;
  return { key, write: sink.writeRendered };
}
