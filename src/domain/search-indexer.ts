import type { DataSource } from 'typeorm';
import { indexPendingMessages } from '../db/queries/search-index.js';
import type { Logger } from '../logger.js';
import type { CancelTimer, Clock } from './clock.js';

/** Told after a send commits that there are messages to index. Returns at once and never throws. */
export interface SearchIndexing {
  messagesStored(): void;
}

/** Ignores every send (for services built without an indexer). */
export const noSearchIndexing: SearchIndexing = { messagesStored: () => {} };

export interface SearchIndexerOptions {
  /** How long after a send the indexer runs (SEARCH_INDEX_DELAY); sends within it share the run. Default 200 ms. */
  delayMs: number;
  /** The indexer also runs this often, for messages stored by other processes and after a failure (SEARCH_INDEX_INTERVAL). Default 5 s. */
  intervalMs: number;
  /** Messages per statement (one transaction each). Default 500. */
  batchSize?: number;
}

const DEFAULT_BATCH_SIZE = 500;

type IndexerState =
  | { state: 'idle' }
  | { state: 'scheduled'; cancel: CancelTimer; due: number }
  | { state: 'running'; run: Promise<void>; again: boolean }
  | { state: 'stopped'; run: Promise<void> };

/**
 * Fills in the search vectors that sends leave out (README "Search"): a while after a send (debounced: sends during
 * the delay or during a run share the next run), and every `intervalMs`, it indexes the unindexed messages in
 * batches, one transaction each, until a batch comes back short. Rows held by another process's indexer or a
 * search are skipped, so several processes share the work without waiting for each other. A failure (the database
 * unreachable) is logged and the next poke or tick tries again. Searches never depend on it for completeness: each
 * indexes its own rooms' backlog first (MessageSearchService).
 */
export class SearchIndexer implements SearchIndexing {
  private status: IndexerState = { state: 'idle' };
  private cancelTick: CancelTimer | undefined;
  private readonly batchSize: number;

  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly options: SearchIndexerOptions,
    private readonly log: Logger,
  ) {
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  }

  /** Starts the periodic run; the first one indexes whatever an earlier process left. */
  start(): void {
    if (this.status.state === 'stopped' || this.cancelTick) return;
    const tick = () => {
      this.cancelTick = this.clock.schedule(this.options.intervalMs, () => {
        this.runSoon(0);
        tick();
      });
    };
    tick();
    this.runSoon(this.options.delayMs);
  }

  messagesStored(): void {
    this.runSoon(this.options.delayMs);
  }

  /** Stops the timers and waits for a batch in flight; the run ends after it. Safe to call more than once. */
  async stop(): Promise<void> {
    this.cancelTick?.();
    const status = this.status;
    switch (status.state) {
      case 'idle':
        this.status = { state: 'stopped', run: Promise.resolve() };
        return;
      case 'scheduled':
        status.cancel();
        this.status = { state: 'stopped', run: Promise.resolve() };
        return;
      case 'running':
        this.status = { state: 'stopped', run: status.run };
        return status.run;
      case 'stopped':
        return status.run;
      default:
        return status satisfies never;
    }
  }

  private runSoon(delayMs: number): void {
    const status = this.status;
    switch (status.state) {
      case 'idle':
        this.status = { state: 'scheduled', cancel: this.clock.schedule(delayMs, () => this.run()), due: this.clock.now() + delayMs };
        return;
      case 'scheduled':
        // The run already scheduled will see these messages; a sooner one replaces it.
        if (this.clock.now() + delayMs < status.due) {
          status.cancel();
          this.status = { state: 'idle' };
          this.runSoon(delayMs);
        }
        return;
      case 'running':
        status.again = true; // the run may have passed them: another one follows
        return;
      case 'stopped':
        return;
      default:
        return status satisfies never;
    }
  }

  private run(): void {
    const running: IndexerState & { state: 'running' } = { state: 'running', run: Promise.resolve(), again: false };
    running.run = this.indexBacklog().then(() => {
      if (this.status !== running) return; // stopped meanwhile
      this.status = { state: 'idle' };
      if (running.again) this.runSoon(this.options.delayMs);
    });
    this.status = running;
  }

  /** Batches until one comes back short or the indexer stops; never rejects. */
  private async indexBacklog(): Promise<void> {
    try {
      let indexed: number;
      do {
        indexed = await indexPendingMessages(this.db.manager, this.batchSize);
      } while (indexed === this.batchSize && this.status.state === 'running');
    } catch (error) {
      this.log.warn({ err: error }, 'search indexer: indexing failed; trying again later');
    }
  }
}
