import type { Unsubscribe } from './room-event-bus.js';

/**
 * A room event as the stream sees it: persisted events carry the room's gap-free `seq`; ephemeral ones (typing,
 * read receipts) carry none, are passed through live and are never replayed.
 */
export interface Sequenced {
  readonly seq?: number | undefined;
}

/** What to do with one event: deliver it, skip it, or end the stream by throwing the given error. */
export type Decision = 'deliver' | 'skip' | Error;

export interface ResumableRoomStreamOptions<TEvent extends Sequenced> {
  /** Starts listening to the room's live events. Called once, before anything is read from storage. */
  listen(onEvent: (event: TEvent) => void): Unsubscribe;
  /** Persisted events with seq > `afterSeq`, ascending, at most `limit`. */
  readAfter(afterSeq: number, limit: number): Promise<TEvent[]>;
  /** The room's latest persisted seq; where a stream without a resume point starts. */
  readLatestSeq(): Promise<number>;
  /** Resume point: every persisted event after this seq is delivered. Default: only events after the latest seq. */
  afterSeq?: number;
  /**
   * Most persisted events a resume may replay. Beyond it, `tooFarBehind(latestSeq)` is delivered instead of the
   * replay and the stream continues live after `latestSeq`. Default: no limit.
   */
  replayLimit?: number;
  tooFarBehind?: (latestSeq: number) => TEvent;
  /** Per-subscriber filter, applied in delivery order. Default: deliver everything. */
  decide?: (event: TEvent) => Decision;
  /** Rows per storage read. Default 200. */
  pageSize?: number;
}

/**
 * A room's events as an async iterator: every persisted event after the resume point exactly once, in seq order,
 * whether it comes from storage or from the live feed, with ephemeral events passed through as they arrive. It
 * listens before it reads, keeps live events that arrive meanwhile, drops those already delivered, and fills any
 * gap (an event that overtook an earlier one) from storage, so the switch from replay to live loses and repeats
 * nothing. `return()` stops it at once, even while it waits for the next event.
 */
export function openResumableRoomStream<TEvent extends Sequenced>(
  options: ResumableRoomStreamOptions<TEvent>,
): AsyncGenerator<TEvent, void> {
  return new ResumableRoomStream(options);
}

class ResumableRoomStream<TEvent extends Sequenced> implements AsyncGenerator<TEvent, void> {
  private readonly arrived: TEvent[] = [];
  private wakeUp: (() => void) | undefined;
  private stopped = false;
  private readonly stopListening: Unsubscribe;
  private readonly events: AsyncGenerator<TEvent, void>;

  constructor(private readonly options: ResumableRoomStreamOptions<TEvent>) {
    this.stopListening = options.listen((event) => {
      this.arrived.push(event);
      this.wakeUp?.();
    });
    this.events = this.deliver();
  }

  next(): Promise<IteratorResult<TEvent, void>> {
    return this.events.next();
  }

  async return(): Promise<IteratorResult<TEvent, void>> {
    this.stop();
    return this.events.return(undefined);
  }

  async throw(error: unknown): Promise<IteratorResult<TEvent, void>> {
    this.stop();
    return this.events.throw(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopListening();
    this.arrived.length = 0;
    this.wakeUp?.();
  }

  /** Applies `decide`: true to deliver, false to skip; throws to end the stream. */
  private accepts(event: TEvent): boolean {
    const decision = this.options.decide?.(event) ?? 'deliver';
    if (decision instanceof Error) throw decision;
    return decision === 'deliver';
  }

  private async *deliver(): AsyncGenerator<TEvent, void> {
    try {
      let lastSeq = await this.startingPoint();
      if (typeof lastSeq !== 'number') {
        // Too far behind: say so, then go live from the latest seq.
        const { resync, latestSeq } = lastSeq;
        if (this.accepts(resync)) yield resync;
        lastSeq = latestSeq;
      } else if (this.options.afterSeq !== undefined) {
        for await (const event of this.readStoredAfter(lastSeq)) {
          if (this.accepts(event)) yield event;
          lastSeq = event.seq!;
        }
      }
      while (!this.stopped) {
        const event = this.arrived.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => (this.wakeUp = resolve));
          this.wakeUp = undefined;
          continue;
        }
        if (event.seq === undefined) {
          if (this.accepts(event)) yield event; // ephemeral: live only
          continue;
        }
        if (event.seq <= lastSeq) continue; // already delivered by the replay
        if (event.seq === lastSeq + 1) {
          if (this.accepts(event)) yield event;
          lastSeq = event.seq;
          continue;
        }
        // A gap: an earlier event is still in flight. Storage has it, since events are published after commit
        // and seqs are assigned in commit order; the live copies that follow are then dropped as duplicates.
        for await (const stored of this.readStoredAfter(lastSeq)) {
          if (this.accepts(stored)) yield stored;
          lastSeq = stored.seq!;
        }
        if (event.seq > lastSeq) {
          // Storage lacked it (which the invariants above rule out): deliver it rather than lose it.
          if (this.accepts(event)) yield event;
          lastSeq = event.seq;
        }
      }
    } finally {
      this.stop();
    }
  }

  /** The seq after which delivery starts, or the resync event when a resume is beyond the replay limit. */
  private async startingPoint(): Promise<number | { resync: TEvent; latestSeq: number }> {
    const { afterSeq, replayLimit, tooFarBehind } = this.options;
    if (afterSeq === undefined) {
      const latestSeq = await this.options.readLatestSeq();
      // Persisted events that arrived while the latest seq was read were committed after listening began: keep them.
      const arrivedSeqs = this.arrived.flatMap((event) => (event.seq === undefined ? [] : [event.seq - 1]));
      return Math.min(latestSeq, ...arrivedSeqs);
    }
    if (replayLimit !== undefined && tooFarBehind) {
      const latestSeq = await this.options.readLatestSeq();
      if (latestSeq - afterSeq > replayLimit) return { resync: tooFarBehind(latestSeq), latestSeq };
    }
    return afterSeq;
  }

  private async *readStoredAfter(afterSeq: number): AsyncGenerator<TEvent, void> {
    const pageSize = this.options.pageSize ?? 200;
    let cursor = afterSeq;
    while (!this.stopped) {
      const page = await this.options.readAfter(cursor, pageSize);
      for (const event of page) {
        if (this.stopped) return;
        yield event;
        cursor = event.seq!;
      }
      if (page.length < pageSize) return;
    }
  }
}
