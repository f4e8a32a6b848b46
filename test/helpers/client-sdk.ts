import WebSocket from 'ws';
import { MessagesDocument, type MessagesQuery } from '../__generated__/graphql.js';
import { createParleyClient, type ConnectionStatus, type ParleyClient, type ParleyClientOptions, type RoomEvent } from '../../src/client/index.js';
import type { HttpClient } from './http-client.js';

/**
 * An SDK client for tests: Node's `ws`, and timings short enough that a stalled connection is noticed within about
 * a second and reconnects come quickly.
 */
export function testClient(url: string, token: string | null, options: Partial<ParleyClientOptions> = {}): ParleyClient {
  return createParleyClient({
    url,
    token: () => token,
    webSocketImpl: WebSocket,
    keepAliveMs: 400,
    pongTimeoutMs: 600,
    connectTimeoutMs: 1_500,
    requestTimeoutMs: 2_000,
    backoff: { initialDelayMs: 50, maxDelayMs: 400 },
    ...options,
  });
}

/** Items recorded by handlers; tests wait for a condition on them with a deadline instead of sleeping. */
export class Recorder<T> {
  readonly items: T[] = [];
  private readonly waiters = new Set<() => void>();

  push = (item: T): void => {
    this.items.push(item);
    for (const waiter of [...this.waiters]) waiter();
  };

  /** Resolves when `condition` holds over the items; rejects after `timeoutMs`. */
  until(condition: (items: readonly T[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition(this.items)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition(this.items)) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.items.length} recorded)`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

/** Records a client's status changes. */
export function statusLog(client: ParleyClient): Recorder<ConnectionStatus> {
  const log = new Recorder<ConnectionStatus>();
  log.push(client.status);
  client.onStatus(log.push);
  return log;
}

/** Seqs of the persisted events among `events`, in arrival order. */
export function seqsOf(events: readonly RoomEvent[]): number[] {
  return events.flatMap((event) => (typeof event.seq === 'number' ? [event.seq] : []));
}

/** A room's whole history, oldest first, read over plain HTTP. */
export async function roomHistory(http: HttpClient, roomId: string) {
  const messages = [];
  let after: string | null = null;
  for (;;) {
    const page: MessagesQuery = await http.data(MessagesDocument, { roomId, first: 100, after });
    messages.push(...page.messages.edges.map((edge) => edge.node));
    if (!page.messages.pageInfo.hasNextPage) return messages;
    after = page.messages.pageInfo.endCursor ?? null;
  }
}

/** Resolves when `promise` does; rejects after `timeoutMs` saying `what` was not done. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${timeoutMs} ms`)), timeoutMs)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `read` until it returns a value that satisfies `condition` (for state with no event to wait on: the database). */
export async function eventually<T>(read: () => Promise<T>, condition: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (condition(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
