/**
 * An event of a stream as the realtime layer sees it: persisted events carry the stream's gap-free `seq`; ephemeral ones
 * (typing, read receipts) carry none, are passed through live and are never replayed.
 */
export interface Sequenced {
  readonly seq?: number | undefined;
  /**
   * Set on an ephemeral event that moves its subscribers past this seq without the events before it (the resync a
   * process sends when it fell more than the replay limit behind): delivered once to each subscriber not past it yet.
   */
  readonly skipTo?: number | undefined;
}

/** What to do with one event for one subscriber: deliver it, skip it, or end the subscription with the error. */
export type Decision = 'deliver' | 'skip' | Error;

/** A payload rendered once for a group of subscribers (whatever its sinks' `render` makes and `writeRendered` takes). */
export type Rendered = string | Uint8Array;

/** Where one subscriber's events go. */
export interface EventSink<TEvent> {
  /**
   * Subscribers with the same key receive byte-identical payloads for an event, so the fan-out renders each event
   * once per key (with any member's `render`) and hands the result to every member's `writeRendered`. Undefined:
   * every event goes through `deliver`. Read once, when the fan-out first delivers an event live (never before
   * `start`), and kept for the subscription.
   */
  readonly groupKey?: string | undefined;
  /** Delivers one event on its own (replay, gap fill, or a sink without a group). */
  deliver(event: TEvent): Promise<void> | void;
  /**
   * Renders an event into the payload the whole group receives (only used when `groupKey` is set): the same object
   * goes to every member's `writeRendered`, so a sink may prepare it once for all (encoded bytes, say).
   */
  render?(event: TEvent): Promise<Rendered>;
  /** Writes a payload rendered for the group (only used when `groupKey` is set; called without `this`). */
  writeRendered?: ((rendered: Rendered) => void) | undefined;
  /** The subscription ended: with an error to report, or without (the client went away). */
  end(error?: unknown): void;
}

/** The group a live subscriber's events are rendered for, and its write, as the fan-out keeps them. */
export interface Grouping {
  readonly key: string;
  readonly write: (rendered: Rendered) => void;
}

/** Reads a stream's log (a room's events, a user's own events). */
export interface StreamLogReader<TEvent> {
  /** Persisted events with seq > `afterSeq`, ascending, at most `limit`. */
  readAfter(afterSeq: number, limit: number): Promise<TEvent[]>;
}

export interface StreamSubscriberOptions<TEvent extends Sequenced> {
  /** The stream's key (see stream-keys). */
  stream: string;
  log: StreamLogReader<TEvent>;
  sink: EventSink<TEvent>;
  /** Resume point: every persisted event after this seq is delivered. Default: only events after the latest seq. */
  afterSeq?: number | undefined;
  /**
   * Most persisted events a resume may replay. Beyond it, `tooFarBehind(latestSeq)` is delivered instead of the
   * replay and delivery continues live after `latestSeq`. Default: no limit.
   */
  replayLimit?: number | undefined;
  tooFarBehind?: ((latestSeq: number) => TEvent) | undefined;
  /** Per-subscriber filter, applied in delivery order. Default: deliver everything. */
  decide?: ((event: TEvent) => Decision) | undefined;
  /** Rows per storage read. Default 200. */
  pageSize?: number | undefined;
}

type State = 'starting' | 'catching-up' | 'live' | 'ended';

/**
 * One subscription to a stream: every persisted event after its resume point exactly once, in seq order, ephemeral
 * events as they arrive. While it replays from storage (at start, or to fill a gap when an event overtook an
 * earlier one) the stream's live events wait in `pending`; once caught up it is `live` and the fan-out delivers to it
 * directly, grouped with the stream's other live subscribers.
 */
export class StreamSubscriber<TEvent extends Sequenced> {
  state: State = 'starting';
  /** Seq of the last persisted event handled (delivered or skipped). */
  lastSeq = 0;
  /** The fan-out's: this subscriber's group once it has been delivered an event live (false: none). */
  grouping: Grouping | false | undefined = undefined;
  private readonly pending: TEvent[] = [];

  constructor(readonly options: StreamSubscriberOptions<TEvent>) {}

  get sink(): EventSink<TEvent> {
    return this.options.sink;
  }

  /** Applies the subscriber's filter; ends the subscription when it says so. True to deliver. */
  accepts(event: TEvent): boolean {
    const decision = this.options.decide?.(event) ?? 'deliver';
    if (decision instanceof Error) {
      this.end(decision);
      return false;
    }
    return decision === 'deliver';
  }

  /**
   * The fan-out's view of a live event: true when the subscriber takes it live now (the caller delivers it),
   * false when it was handled otherwise (dropped as already seen, or queued while catching up).
   */
  takeLive(event: TEvent): boolean {
    if (this.state !== 'live') {
      if (this.state !== 'ended') this.pending.push(event);
      return false;
    }
    if (event.seq === undefined) return this.skippedTo(event) && this.accepts(event);
    if (event.seq <= this.lastSeq) return false;
    if (event.seq === this.lastSeq + 1) {
      this.lastSeq = event.seq;
      return this.accepts(event);
    }
    // A gap: an earlier event is still in flight. Storage has it (events are published after commit, seqs follow
    // commit order), so catch up from storage; the live copies are then dropped as duplicates.
    this.pending.push(event);
    void this.catchUp();
    return false;
  }

  /**
   * Starts delivery: the resume point, a replay or a ResyncRequired, then live. `latestSeq` is the stream's latest
   * seq read after the subscriber was registered, so nothing committed later can be missed.
   */
  async start(latestSeq: number): Promise<void> {
    try {
      const { afterSeq, replayLimit, tooFarBehind } = this.options;
      if (afterSeq === undefined) {
        // Persisted events that arrived while the latest seq was read were committed after listening began. There
        // is nothing to read from storage: what commits after the read arrives live (a gap still goes there).
        const arrived = this.pending.flatMap((event) => (event.seq === undefined ? [] : [event.seq - 1]));
        this.lastSeq = Math.min(latestSeq, ...arrived);
        await this.catchUp(false);
        return;
      }
      if (replayLimit !== undefined && tooFarBehind && latestSeq - afterSeq > replayLimit) {
        const resync = tooFarBehind(latestSeq);
        if (this.accepts(resync)) await this.sink.deliver(resync);
        this.lastSeq = latestSeq;
      } else {
        this.lastSeq = afterSeq;
      }
      await this.catchUp();
    } catch (error) {
      this.end(error);
    }
  }

  /** False for a `skipTo` event this subscriber is already past; otherwise moves past what it skips. */
  private skippedTo(event: TEvent): boolean {
    if (event.skipTo === undefined) return true;
    if (event.skipTo <= this.lastSeq) return false;
    this.lastSeq = event.skipTo;
    return true;
  }

  /** Stops delivery and tells the sink; later calls do nothing. */
  end(error?: unknown): void {
    if (this.stop()) this.sink.end(error);
  }

  /**
   * Stops delivery without telling the sink (its consumer went away): a replay in progress delivers nothing more.
   * False when it had already ended.
   */
  stop(): boolean {
    if (this.state === 'ended') return false;
    this.state = 'ended';
    this.pending.length = 0;
    return true;
  }

  /**
   * Replays from storage (unless `fromStorage` is false) and drains the events that arrived meanwhile, until
   * nothing is left: then live.
   */
  private async catchUp(fromStorage = true): Promise<void> {
    if (this.state === 'catching-up' || this.state === 'ended') return;
    this.state = 'catching-up';
    try {
      if (fromStorage) await this.replayStored();
      while (this.state === 'catching-up') {
        const event = this.pending.shift();
        if (event === undefined) {
          this.state = 'live';
          return;
        }
        if (event.seq === undefined) {
          if (this.skippedTo(event) && this.accepts(event)) await this.sink.deliver(event);
        } else if (event.seq === this.lastSeq + 1) {
          this.lastSeq = event.seq;
          if (this.accepts(event)) await this.sink.deliver(event);
        } else if (event.seq > this.lastSeq) {
          // A gap again: storage has what is missing. The event itself is then dropped as already delivered,
          // unless storage lacked it (which the invariants rule out): then it is delivered rather than lost.
          const before = this.lastSeq;
          await this.replayStored();
          if (this.lastSeq === before) {
            this.lastSeq = event.seq;
            if (this.accepts(event)) await this.sink.deliver(event);
          }
        }
      }
    } catch (error) {
      this.end(error);
    }
  }

  private async replayStored(): Promise<void> {
    const pageSize = this.options.pageSize ?? 200;
    for (;;) {
      const page = await this.options.log.readAfter(this.lastSeq, pageSize);
      for (const event of page) {
        if (this.state === 'ended') return;
        this.lastSeq = event.seq!;
        if (this.accepts(event)) await this.sink.deliver(event);
      }
      if (page.length < pageSize || this.state === 'ended') return;
    }
  }
}
