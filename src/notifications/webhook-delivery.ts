import { systemClock, type CancelTimer, type Clock } from '../domain/clock.js';
import type { Logger } from '../logger.js';
import { WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER, webhookSignature } from './webhook-signature.js';

export interface WebhookDeliveryOptions {
  /** NOTIFY_WEBHOOK_URL. */
  url: string;
  /** NOTIFY_WEBHOOK_SECRET: the HMAC-SHA256 key of the signature header. */
  secret: string;
  /** How long one attempt may take until the response headers arrive (NOTIFY_WEBHOOK_TIMEOUT). */
  timeoutMs: number;
  /** Wait before the first retry (NOTIFY_WEBHOOK_RETRY_DELAY); it doubles for each further one, with jitter. */
  retryDelayMs: number;
  /** Longest wait between two attempts, also when the receiver asks for longer with Retry-After. Default 5 min. */
  maxRetryDelayMs?: number;
  /** Attempts per notification, the first included. Default 5. */
  maxAttempts?: number;
  /** Requests in flight at once; the rest wait in the queue. Default 8. */
  maxConcurrent?: number;
  /** Notifications held at once (queued, in flight or waiting for a retry); one more is dropped with a warning. Default 1000. */
  maxPending?: number;
  log: Logger;
  /** Times the retries. Default the system clock (its timers do not keep the process alive). */
  clock?: Clock;
}

/** One notification to POST: its id (for the logs) and its serialized JSON body, sent as is on every attempt. */
export interface WebhookRequest {
  id: string;
  body: string;
}

interface Job extends WebhookRequest {
  attempts: number;
  /** Set while the job waits for its next attempt. */
  cancelRetry?: CancelTimer;
}

type AttemptOutcome =
  | { kind: 'delivered' }
  | { kind: 'refused'; status: number }
  | { kind: 'failed'; reason: string; retryAfterMs?: number };

type Lifecycle = { state: 'open' } | { state: 'closed'; done: Promise<void> };

/**
 * POSTs signed notifications to the operator's webhook, never making a caller wait: `enqueue` returns at once. At
 * most `maxConcurrent` requests are in flight, each bounded by `timeoutMs`; a network error, a timeout, 429 and 5xx
 * are retried after an exponential backoff with jitter (honouring Retry-After) up to `maxAttempts` in all; any
 * other answer outside 2xx (redirects included) is final. Delivery is at least once while the process runs: a
 * receiver that took a notification but answered too late gets it again, with the same id. What is pending when
 * `close` is called, or when the process ends, is lost (and counted in a log line).
 */
export class WebhookDelivery {
  private readonly queue: Job[] = [];
  private readonly retrying = new Set<Job>();
  private readonly inFlight = new Map<Job, AbortController>();
  private readonly attempts = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly maxAttempts: number;
  private readonly maxConcurrent: number;
  private readonly maxPending: number;
  private readonly maxRetryDelayMs: number;
  private lifecycle: Lifecycle = { state: 'open' };

  constructor(private readonly options: WebhookDeliveryOptions) {
    this.clock = options.clock ?? systemClock;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxConcurrent = options.maxConcurrent ?? 8;
    this.maxPending = options.maxPending ?? 1000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 300_000;
  }

  /** Notifications queued, in flight or waiting for a retry. */
  get pending(): number {
    return this.queue.length + this.inFlight.size + this.retrying.size;
  }

  /** Queues a notification; false when it was dropped (the queue is full, or delivery is closed). Never throws. */
  enqueue(request: WebhookRequest): boolean {
    if (this.lifecycle.state === 'closed') return false;
    if (this.pending >= this.maxPending) {
      this.options.log.warn({ notificationId: request.id, pending: this.pending }, 'webhook queue full: notification dropped');
      return false;
    }
    this.queue.push({ ...request, attempts: 0 });
    this.pump();
    return true;
  }

  /**
   * Stops: cancels waiting retries, aborts requests in flight and drops the queue, logging how many notifications
   * were not delivered. Resolves once the aborted requests have settled; safe to call more than once.
   */
  close(): Promise<void> {
    if (this.lifecycle.state === 'closed') return this.lifecycle.done;
    const undelivered = this.pending;
    for (const job of this.retrying) job.cancelRetry?.();
    this.retrying.clear();
    this.queue.length = 0;
    for (const controller of this.inFlight.values()) controller.abort();
    if (undelivered > 0) this.options.log.warn({ undelivered }, 'stopping: webhook notifications not delivered');
    const done = Promise.allSettled([...this.attempts]).then(() => {});
    this.lifecycle = { state: 'closed', done };
    return done;
  }

  private pump(): void {
    while (this.lifecycle.state === 'open' && this.inFlight.size < this.maxConcurrent && this.queue.length > 0) {
      const job = this.queue.shift()!;
      const controller = new AbortController();
      this.inFlight.set(job, controller);
      const attempt = this.attempt(job, controller.signal).finally(() => {
        this.inFlight.delete(job);
        this.attempts.delete(attempt);
        this.pump();
      });
      this.attempts.add(attempt);
    }
  }

  private async attempt(job: Job, cancelled: AbortSignal): Promise<void> {
    job.attempts++;
    const outcome = await this.post(job, cancelled);
    if (this.lifecycle.state === 'closed') return;
    const log = this.options.log;
    const context = { notificationId: job.id, attempt: job.attempts };
    switch (outcome.kind) {
      case 'delivered':
        log.debug(context, 'webhook notification delivered');
        return;
      case 'refused':
        log.warn({ ...context, status: outcome.status }, 'webhook refused a notification: not retried');
        return;
      case 'failed': {
        if (job.attempts >= this.maxAttempts) {
          log.warn({ ...context, reason: outcome.reason }, 'webhook notification not delivered: giving up');
          return;
        }
        const delayMs = this.retryDelay(job.attempts, outcome.retryAfterMs);
        log.info({ ...context, reason: outcome.reason, retryInMs: delayMs }, 'webhook notification failed: will retry');
        this.retrying.add(job);
        job.cancelRetry = this.clock.schedule(delayMs, () => {
          this.retrying.delete(job);
          delete job.cancelRetry;
          this.queue.push(job);
          this.pump();
        });
        return;
      }
      default:
        return outcome satisfies never;
    }
  }

  /** One signed POST, signed afresh (a retry carries the time of its own attempt, so replay windows stay short). */
  private async post(job: Job, cancelled: AbortSignal): Promise<AttemptOutcome> {
    const timestamp = Math.floor(this.clock.now() / 1000);
    try {
      const response = await fetch(this.options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Parley-Webhook',
          [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
          [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(this.options.secret, timestamp, job.body),
        },
        body: job.body,
        redirect: 'manual',
        signal: AbortSignal.any([cancelled, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      response.body?.cancel().catch(() => {}); // only the status matters; frees the connection
      if (response.status >= 200 && response.status < 300) return { kind: 'delivered' };
      if (response.status === 429 || response.status >= 500) {
        const retryAfterMs = retryAfter(response.headers.get('retry-after'), this.clock.now());
        return { kind: 'failed', reason: `HTTP ${response.status}`, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      }
      return { kind: 'refused', status: response.status };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      const reason = name === 'TimeoutError' ? `no answer within ${this.options.timeoutMs} ms` : describeNetworkError(error);
      return { kind: 'failed', reason };
    }
  }

  /** Exponential backoff with jitter: about retryDelayMs·2^(n-1) before retry n, between half and all of it. */
  private retryDelay(attemptsSoFar: number, retryAfterMs: number | undefined): number {
    const ceiling = Math.min(this.maxRetryDelayMs, this.options.retryDelayMs * 2 ** (attemptsSoFar - 1));
    const backoff = ceiling / 2 + Math.random() * (ceiling / 2);
    return Math.round(Math.min(this.maxRetryDelayMs, Math.max(backoff, retryAfterMs ?? 0)));
  }
}

/** A Retry-After header (seconds or an HTTP date) in milliseconds from now. */
function retryAfter(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** fetch's "fetch failed" says nothing: the cause says what (ECONNREFUSED, a reset socket, a DNS failure). */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return cause ? `${error.message}: ${code ?? cause.message}` : error.message;
}
