import type { Unsubscribe } from './room-event-bus.js';

/** Anything numbered by its room's gap-free sequence. */
export interface Sequenced {
  readonly seq: number;
}

export interface ResumableRoomStreamOptions<TEvent extends Sequenced> {
  /** Starts listening to the room's live events. Called once, before anything is read from storage. */
  listen(onEvent: (event: TEvent) => void): Unsubscribe;
  /** Persisted events with seq > `afterSeq`, ascending, at most `limit`. */
  readAfter(afterSeq: number, limit: number): Promise<TEvent[]>;
  /** The room's latest persisted seq; where a stream without a resume point starts. */
  readLatestSeq(): Promise<number>;
  /** Resume point: every persisted event after this seq is delivered. Default: only events after the latest seq. */
  afterSeq?: number;
  /** Rows per storage read. Default 200. */
  pageSize?: number;
}

/**
 * A room's events as an async iterator: every event after the resume point exactly once, in seq order, whether it
 * comes from storage or from the live feed. It listens before it reads, keeps live events that arrive meanwhile, drops
 * those already delivered, and fills any gap (an event that overtook an earlier one) from storage, so the switch from
 * replay to live loses and repeats nothing. `return()` stops it at once, even while it waits for the next event.
 */
export function openResumableRoomStream<TEvent extends Sequenced>(
  options: ResumableRoomStreamOptions<TEvent>,
): AsyncIterableIterator<TEvent> & AsyncGenerator<TEvent> {
  return new ResumableRoomStream(options);
}

class ResumableRoomStream<TEvent extends Sequenced> implements AsyncGenerator<TEvent> {
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

  private async *deliver(): AsyncGenerator<TEvent, void> {
    try {
      let lastSeq = this.options.afterSeq ?? (await this.options.readLatestSeq());
      if (this.options.afterSeq === undefined && this.arrived.length > 0) {
        // Events that arrived while the latest seq was being read were committed after listening began: keep them.
        lastSeq = Math.min(lastSeq, ...this.arrived.map((event) => event.seq - 1));
      }
      if (this.options.afterSeq !== undefined) {
        for await (const event of this.readStoredAfter(lastSeq)) {
          yield event;
          lastSeq = event.seq;
        }
      }
      while (!this.stopped) {
        const event = this.arrived.shift();
        if (event === undefined) {
          await new Promise<void>((resolve) => (this.wakeUp = resolve));
          this.wakeUp = undefined;
          continue;
        }
        if (event.seq <= lastSeq) continue; // already delivered by the replay
        if (event.seq === lastSeq + 1) {
          yield event;
          lastSeq = event.seq;
          continue;
        }
        // A gap: an earlier event is still in flight. Storage has it, since events are published after commit
        // and seqs are assigned in commit order; the live copies that follow are then dropped as duplicates.
        for await (const stored of this.readStoredAfter(lastSeq)) {
          yield stored;
          lastSeq = stored.seq;
        }
        if (event.seq > lastSeq) {
          // Storage lacked it (which the invariants above rule out): deliver it rather than lose it.
          yield event;
          lastSeq = event.seq;
        }
      }
    } finally {
      this.stop();
    }
  }

  private async *readStoredAfter(afterSeq: number): AsyncGenerator<TEvent, void> {
    const pageSize = this.options.pageSize ?? 200;
    let cursor = afterSeq;
    while (!this.stopped) {
      const page = await this.options.readAfter(cursor, pageSize);
      for (const event of page) {
        if (this.stopped) return;
        yield event;
        cursor = event.seq;
      }
      if (page.length < pageSize) return;
    }
  }
}
