import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.js';
import { InProcessStreamEventBus, type StreamEventBus, type Unsubscribe } from '../stream-event-bus.js';
import type { Sequenced } from '../stream-subscriber.js';
import { BusCounters } from './bus-counters.js';
import { decodeBusMessage, encodeBusMessage } from './bus-message.js';
import type { BusTransport } from './bus-transport.js';
import type { StreamLogs } from './stream-logs.js';

export interface CrossProcessBusOptions<TEvent> {
  transport: BusTransport;
  /** Where lost hints are healed from. */
  logs: StreamLogs<TEvent>;
  log: Logger;
  /** How often every followed stream is compared with its latest seq (BUS_CHECK_INTERVAL). */
  checkIntervalMs: number;
  /** A stream more than this many events behind is not replayed: its subscribers get `tooFarBehind` (REPLAY_LIMIT). */
  replayLimit: number;
  /** The ephemeral event (with `skipTo`) that tells a stream's subscribers to resync; undefined for none. */
  tooFarBehind: (stream: string, latestSeq: number) => TEvent | undefined;
  /** Rows per log read. Default 200. */
  pageSize?: number;
  /**
   * Runs with every check (periodic, and after the listening connection returned), for state other than the streams
   * that lost messages may have left stale (sign-outs).
   */
  onCheck?: () => Promise<void>;
}

/** What this process knows of a stream it follows. */
interface Followed {
  /** Highest seq passed to this process's listeners (published here, received, or healed); undefined until one. */
  high: number | undefined;
  /** A log read in progress, and whether another was asked for meanwhile. */
  /** Highest latest seq a check or a hint reported. */
  latest: number | undefined;
  healing: boolean;
  healAgain: boolean;
}

/**
 * A StreamEventBus for a deployment of several processes on one database. Publishing delivers to this process's
 * listeners at once (the in-process path, no round trip) and sends a hint to the others through the transport:
 * `{stream, seq}` and the event itself when it fits; ephemeral events (no seq) travel whole.
 *
 * The transport is only a hint, as in Centrifugo and Synapse: the logs in PostgreSQL are the source of truth, so a
 * lost hint loses no event. Per followed stream, an event from elsewhere is passed on (the fan-out drops what it
 * already has and waits briefly for what overtook it); a hint without its event and with a seq past what was
 * passed on is read from the log; when the listening connection comes back, and every `checkIntervalMs`, each
 * followed stream's latest seq is compared with what was passed on and the difference read from the log. More than
 * `replayLimit` behind, the stream's subscribers get `tooFarBehind` instead.
 */
export class CrossProcessStreamEventBus<TEvent extends Sequenced> implements StreamEventBus<TEvent> {
  readonly counters = new BusCounters();
  /** This process's id on the bus: its own messages come back and are skipped. */
  readonly origin = randomUUID();
  private readonly local = new InProcessStreamEventBus<TEvent>();
  private readonly followed = new Map<string, Followed>();
  /** Where the local subscribers of a stream are (lowest seq delivered); used until `high` is known. */
  private readonly positions: ((stream: string) => number | undefined)[] = [];
  private checkTimer: NodeJS.Timeout | undefined;
  private readonly heals = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly options: CrossProcessBusOptions<TEvent>) {}

  /** Connects the transport and starts the periodic check. @throws when the transport cannot connect. */
  async start(): Promise<void> {
    await this.options.transport.start({
      message: (text) => {
        // A listener that throws must not take down the transport's connection handler (every process gets the message).
        try {
          this.received(text);
        } catch (error) {
          this.options.log.error({ err: error }, 'bus: a listener failed on a message from another process');
        }
      },
      reconnected: () => this.checkSoon(),
    });
    this.checkTimer = setInterval(() => this.checkSoon(), this.options.checkIntervalMs);
    this.checkTimer.unref();
  }

  /** Stops listening and checking, and waits for log reads in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checkTimer);
    await this.options.transport.stop();
    await Promise.allSettled([...this.heals]);
  }

  /** Whether the transport's listening connection is up (readiness). */
  listening(): boolean {
    return this.options.transport.listening();
  }

  /** Adds a source of local subscribers' positions (see StreamFanOut.lowestLiveSeq). */
  addPositions(positionOf: (stream: string) => number | undefined): void {
    this.positions.push(positionOf);
  }

  publish(stream: string, event: TEvent): void {
    // The hint first: the local fan-out that follows may keep this process busy writing to its own sockets, and the
    // other processes' subscribers should not wait for that.
    this.send(stream, event);
    this.local.publish(stream, event);
    if (event.seq !== undefined) this.passedOn(stream, event.seq);
  }

  private send(stream: string, event: TEvent): void {
    const { transport } = this.options;
    let text = encodeBusMessage({ origin: this.origin, stream, seq: event.seq, event });
    if (text.length * 3 > transport.maxMessageBytes && Buffer.byteLength(text) > transport.maxMessageBytes) {
      if (event.seq === undefined) {
        this.counters.oversized++;
        return;
      }
      text = encodeBusMessage({ origin: this.origin, stream, seq: event.seq }); // receivers read it from the log
    }
    this.counters.sent++;
    transport.send(stream, text);
  }

  /** Delivers an event to this process's listeners only (what each process works out for itself, such as RoomActivity). */
  publishHere(stream: string, event: TEvent): void {
    this.local.publish(stream, event);
  }

  subscribe(stream: string, listener: (event: TEvent) => void): Unsubscribe {
    if (!this.followed.has(stream)) this.followed.set(stream, { high: undefined, latest: undefined, healing: false, healAgain: false });
    const unsubscribe = this.local.subscribe(stream, listener);
    return () => {
      unsubscribe();
      if (this.local.listenerCount(stream) === 0) this.followed.delete(stream);
    };
  }

  listenerCount(stream: string): number {
    return this.local.listenerCount(stream);
  }

  /** Runs the comparison of every followed stream with its log now (tests; the timer and reconnects call it too). */
  async checkAll(): Promise<void> {
    const { logs, onCheck } = this.options;
    if (onCheck && !this.stopped) this.track(onCheck());
    const streams = [...this.followed.keys()].filter((stream) => logs.has(stream));
    if (streams.length === 0 || this.stopped) return;
    this.counters.checks++;
    for (let i = 0; i < streams.length; i += 5000) {
      const latest = await logs.latestSeqs(streams.slice(i, i + 5000));
      for (const [stream, seq] of latest) {
        const followed = this.followed.get(stream);
        if (!followed) continue;
        // Nobody here has a position yet (subscribers still replaying): they read the log themselves.
        const known = followed.high ?? this.lowestPosition(stream);
        if (known !== undefined && seq > known) this.heal(stream, seq);
      }
    }
  }

  private checkSoon(): void {
    if (this.stopped) return;
    this.track(this.checkAll());
  }

  private received(text: string): void {
    let message;
    try {
      message = decodeBusMessage<TEvent>(text);
    } catch (error) {
      this.options.log.warn({ err: error }, 'bus: ignored a message that is not a bus message');
      return;
    }
    if (message.origin === this.origin) return;
    this.counters.received++;
    const followed = this.followed.get(message.stream);
    if (!followed) {
      this.counters.ignored++;
      return;
    }
    if (message.seq === undefined) {
      if (message.event !== undefined) this.local.publish(message.stream, message.event);
      return;
    }
    if (message.event !== undefined) {
      // The fan-out puts it in order with this process's own events and drops what it already has.
      this.local.publish(message.stream, message.event);
      this.passedOn(message.stream, message.seq);
      return;
    }
    if (followed.high === undefined || message.seq > followed.high) this.heal(message.stream, message.seq, message.seq - 1);
  }

  private passedOn(stream: string, seq: number): void {
    const followed = this.followed.get(stream);
    if (followed && (followed.high === undefined || seq > followed.high)) followed.high = seq;
  }

  private lowestPosition(stream: string): number | undefined {
    let lowest: number | undefined;
    for (const positionOf of this.positions) {
      const position = positionOf(stream);
      if (position !== undefined && (lowest === undefined || position < lowest)) lowest = position;
    }
    return lowest;
  }

  /**
   * Reads the stream's log after what was passed on (`high`, else `from`, else the subscribers' lowest position) up to
   * at least `latest`, and passes the events on. One read per stream at a time: a request meanwhile runs after it.
   */
  private heal(stream: string, latest: number | undefined, from?: number): void {
    const followed = this.followed.get(stream);
    if (!followed || this.stopped) return;
    if (latest !== undefined) followed.latest = Math.max(followed.latest ?? 0, latest);
    if (followed.high === undefined && from !== undefined) followed.high = from;
    if (followed.healing) {
      followed.healAgain = true;
      return;
    }
    followed.healing = true;
    this.track(
      (async () => {
        try {
          do {
            followed.healAgain = false;
            await this.readGap(stream, followed);
          } while (followed.healAgain && this.followed.get(stream) === followed && !this.stopped);
        } catch (error) {
          this.options.log.warn({ err: error, stream }, 'bus: could not read a stream to heal a gap; the next check tries again');
        } finally {
          followed.healing = false;
        }
      })(),
    );
  }

  private async readGap(stream: string, followed: Followed): Promise<void> {
    const { logs, replayLimit, pageSize = 200 } = this.options;
    let after = followed.high ?? this.lowestPosition(stream);
    if (after === undefined) return;
    if (followed.latest !== undefined && followed.latest - after > replayLimit) {
      this.resync(stream, followed, followed.latest);
      return;
    }
    let found = 0;
    for (;;) {
      const page = await logs.readAfter(stream, after, pageSize);
      if (this.followed.get(stream) !== followed || this.stopped) return;
      for (const event of page) {
        this.local.publish(stream, event);
        after = event.seq!;
        this.passedOn(stream, after);
      }
      found += page.length;
      if (page.length < pageSize) break;
      if (found >= replayLimit) {
        // Still reading: the stream moves faster than this process catches up, or fell far behind meanwhile.
        const newest = (await logs.latestSeqs([stream])).get(stream);
        if (newest !== undefined && newest - after > replayLimit) {
          this.resync(stream, followed, newest);
          return;
        }
      }
    }
    if (found > 0) {
      this.counters.gapsHealed++;
      this.counters.eventsHealed += found;
      this.options.log.info({ stream, events: found }, 'bus: healed a gap from the log');
    }
  }

  private resync(stream: string, followed: Followed, latest: number): void {
    const event = this.options.tooFarBehind(stream, latest);
    this.counters.resyncs++;
    this.options.log.warn({ stream, latest, passedOn: followed.high }, 'bus: a stream fell more than the replay limit behind; its subscribers resync');
    followed.high = latest;
    if (event !== undefined) this.local.publish(stream, event);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.options.log.warn({ err: error }, 'bus: check failed; the next one tries again'));
    this.heals.add(tracked);
    void tracked.finally(() => this.heals.delete(tracked));
  }
}
