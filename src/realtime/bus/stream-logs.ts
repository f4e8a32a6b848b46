/** Reads any stream's log by its key (see stream-keys): what the bus heals from when hints were lost. */
export interface StreamLogs<TEvent> {
  /** Whether `stream` has a log (persisted events with a seq); ephemeral-only keys have none. */
  has(stream: string): boolean;
  /** Persisted events with seq > `afterSeq`, ascending, at most `limit`. */
  readAfter(stream: string, afterSeq: number, limit: number): Promise<TEvent[]>;
  /** The latest seq of each stream (absent: no such stream), in one round trip. */
  latestSeqs(streams: readonly string[]): Promise<Map<string, number>>;
}
