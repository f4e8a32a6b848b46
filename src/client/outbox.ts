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
  private readonly listeners = new Set<(pending: readonly PendingSend[]) => void>();

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

  /** Calls `listener` with the pending sends whenever they change; returns the unsubscribe. */
  onChange(listener: (pending: readonly PendingSend[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(input: SendMessageInput): Promise<ParleyMessageFragment> {
    return new Promise((resolve, reject) => {
      if (this.connection.closedSignal.aborted) return reject(new ParleyClientClosedError());
      const clientMessageId = globalThis.crypto.randomUUID();
      this.queue.push({ clientMessageId, roomId: input.roomId, body: input.body, replyToId: input.replyToId ?? null, resolve, reject });
      this.changed();
      void this.drain();
    });
  }

  /** Rejects every queued send with ParleyClientClosedError (each has left the queue by then). */
  close(): void {
    const abandoned = this.queue.splice(0);
    if (abandoned.length > 0) this.changed();
    for (const entry of abandoned) entry.reject(new ParleyClientClosedError());
  }

  private changed(): void {
    if (this.listeners.size === 0) return;
    const pending = this.pending;
    for (const listener of [...this.listeners]) {
      try {
        listener(pending);
      } catch {
        // an app's listener must not break the outbox
      }
    }
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let entry = this.queue[0]; entry; entry = this.queue[0]) {
        const outcome = await this.deliver(entry);
        // close() may have taken the entry (and rejected it) meanwhile.
        const index = this.queue.indexOf(entry);
        if (index === -1) continue;
        // Out of the queue first, so `pendingSends` read where the promise settles no longer lists it.
        this.queue.splice(index, 1);
        this.changed();
        if (outcome.ok) entry.resolve(outcome.message);
        else entry.reject(outcome.error);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Sends `entry` until it is acknowledged, fails for good, or the client closes; settles nothing itself. */
  private async deliver(entry: Entry): Promise<{ ok: true; message: ParleyMessageFragment } | { ok: false; error: unknown }> {
    const { roomId, body, replyToId, clientMessageId } = entry;
    for (let attempt = 0; ; attempt++) {
      if (this.connection.closedSignal.aborted) return { ok: false, error: new ParleyClientClosedError() };
      if (this.connection.networkOffline) {
        // No attempt while the device is offline: retried at once when the network is back.
        await this.connection.whenOnline();
        attempt = -1;
        continue;
      }
      try {
        const data = await this.runner.run(ParleySendMessageDocument, { roomId, body, replyToId, clientMessageId }, { route: this.route });
        return { ok: true, message: data.sendMessage };
      } catch (error) {
        if (!isRetryable(error)) return { ok: false, error };
      }
      // Retry after the backoff, or as soon as a new socket is up (the usual end of an outage).
      const wake = new AbortController();
      void this.connection.nextSession(wake.signal).then(() => wake.abort());
      await pause(backoffDelay(attempt, this.backoff), wake.signal);
      wake.abort();
    }
  }
}
