import { ParleySendMessageDocument, type ParleyMessageFragment } from './__generated__/graphql.js';
import { backoffDelay, pause, type BackoffOptions } from './backoff.js';
import type { Connection } from './connection.js';
import { ParleyClientClosedError, isRetryable } from './errors.js';
import type { OperationRoute, OperationRunner } from './operations.js';

export interface SendMessageInput {
  roomId: string;
  body: string;
  replyToId?: string | null;
}

/** A send the server has not acknowledged yet (for showing "sending…" in an app). */
export interface PendingSend {
  readonly clientMessageId: string;
  readonly roomId: string;
  readonly body: string;
}

interface Entry extends PendingSend {
  readonly replyToId: string | null;
  resolve(message: ParleyMessageFragment): void;
  reject(error: unknown): void;
}

/**
 * Sends messages so that each is stored exactly once: every send gets a `clientMessageId` and stays queued until the
 * server acknowledges it, retried with that same id after drops, reconnects and SERVICE_UNAVAILABLE (the server
 * answers a repeated id with the message it already stored). Sends go out one at a time, in the order they were
 * made, so a room's messages keep the order they were typed in. A permanent error rejects that send only.
 */
export class Outbox {
  private readonly queue: Entry[] = [];
  private draining = false;

  constructor(
    private readonly runner: OperationRunner,
    private readonly connection: Connection,
    private readonly backoff: BackoffOptions,
    private readonly route: OperationRoute,
  ) {}

  /** Sends not acknowledged yet, oldest first. */
  get pending(): readonly PendingSend[] {
    return this.queue.map(({ clientMessageId, roomId, body }) => ({ clientMessageId, roomId, body }));
  }

  send(input: SendMessageInput): Promise<ParleyMessageFragment> {
    return new Promise((resolve, reject) => {
      if (this.connection.closedSignal.aborted) return reject(new ParleyClientClosedError());
      const clientMessageId = globalThis.crypto.randomUUID();
      this.queue.push({ clientMessageId, roomId: input.roomId, body: input.body, replyToId: input.replyToId ?? null, resolve, reject });
      void this.drain();
    });
  }

  /** Rejects every queued send with ParleyClientClosedError. */
  close(): void {
    for (const entry of this.queue.splice(0)) entry.reject(new ParleyClientClosedError());
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let entry = this.queue[0]; entry; entry = this.queue[0]) {
        await this.deliver(entry);
        if (this.queue[0] === entry) this.queue.shift();
      }
    } finally {
      this.draining = false;
    }
  }

  private async deliver(entry: Entry): Promise<void> {
    const { roomId, body, replyToId, clientMessageId } = entry;
    for (let attempt = 0; ; attempt++) {
      if (this.connection.closedSignal.aborted) return entry.reject(new ParleyClientClosedError());
      try {
        const data = await this.runner.run(ParleySendMessageDocument, { roomId, body, replyToId, clientMessageId }, { route: this.route });
        return entry.resolve(data.sendMessage);
      } catch (error) {
        if (!isRetryable(error)) return entry.reject(error);
      }
      // Retry after the backoff, or as soon as a new socket is up (the usual end of an outage).
      const wake = new AbortController();
      void this.connection.nextSession(wake.signal).then(() => wake.abort());
      await pause(backoffDelay(attempt, this.backoff), wake.signal);
      wake.abort();
    }
  }
}
