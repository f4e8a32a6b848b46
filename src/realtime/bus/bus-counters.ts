/** What the bus between processes did, for /metrics. Monotonic. */
export class BusCounters {
  /** Messages received from other processes (hints, with or without their event, and ephemeral events). */
  received = 0;
  /** Messages of other processes about streams nobody here follows. */
  ignored = 0;
  /** Messages this process sent (or queued to send). */
  sent = 0;
  /** Messages dropped because the transport could not send them (receivers heal persisted ones). */
  sendFailures = 0;
  /** Ephemeral events too large to send. */
  oversized = 0;
  /** Log reads that found events this process had not heard of: gaps healed. */
  gapsHealed = 0;
  /** Persisted events read from the logs by healing and passed on. */
  eventsHealed = 0;
  /** Comparisons of every followed stream with its latest seq (periodic, and after a reconnect). */
  checks = 0;
  /** Streams found more than the replay limit behind: their subscribers were told to resync. */
  resyncs = 0;
}
