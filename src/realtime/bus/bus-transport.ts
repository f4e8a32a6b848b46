/** What a transport tells the bus it carries messages for. */
export interface BusTransportHandlers {
  /** A message some process sent (this one included: the bus skips its own). */
  message(text: string): void;
  /**
   * The listening connection is (again) up after it was down: whatever was sent meanwhile may be lost, so the bus
   * re-reads every stream it follows. Not called for the first connection.
   */
  reconnected(): void;
}

/**
 * Carries the bus's text messages between every process of a deployment, best effort: a message may be lost while
 * a connection is down (the receivers heal from the logs), is never reordered among messages of one `key` sent by
 * one process, and reaches the sending process too.
 */
export interface BusTransport {
  /** For logs and metrics: `postgres` or `redis`. */
  readonly kind: string;
  /** Largest message `send` carries, in bytes of UTF-8. */
  readonly maxMessageBytes: number;
  /** Connects and starts listening; resolves once listening. Reconnects by itself afterwards until `stop`. */
  start(handlers: BusTransportHandlers): Promise<void>;
  /** Sends a message after what this process sent before under the same `key`. Never throws; never waits. */
  send(key: string, text: string): void;
  /** Whether the listening connection is up now (readiness). */
  listening(): boolean;
  /** Closes every connection; sends still queued are dropped. */
  stop(): Promise<void>;
}
