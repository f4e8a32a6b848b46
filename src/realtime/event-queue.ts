/**
 * Events handed over one by one as an async iterator, for consumers that pull (graphql-js executing a
 * subscription per event). `return()` ends it at once, even while a `next()` waits, and calls `onReturn`.
 */
export class EventQueue<T> implements AsyncGenerator<T, void> {
  private readonly items: T[] = [];
  private waiting: { resolve: (result: IteratorResult<T, void>) => void; reject: (error: unknown) => void } | undefined;
  private ended: { error?: unknown } | undefined;

  constructor(private readonly onReturn: () => void) {}

  /** Queues an event for the consumer. Resolves at once: the consumer's pace does not hold up the producer. */
  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
    } else {
      this.items.push(item);
    }
  }

  /** Ends the iteration after the queued events: with `error`, the consumer's next `next()` rejects with it. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = error === undefined ? {} : { error };
    if (this.waiting && this.items.length === 0) this.settleWaiting();
  }

  next(): Promise<IteratorResult<T, void>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.ended) {
      const { error } = this.ended;
      this.ended = {}; // report an error once
      return error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  async return(): Promise<IteratorResult<T, void>> {
    this.items.length = 0;
    if (!this.ended) {
      this.ended = {};
      this.onReturn();
    }
    this.ended = {};
    this.settleWaiting();
    return { value: undefined, done: true };
  }

  async throw(error: unknown): Promise<IteratorResult<T, void>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }

  private settleWaiting(): void {
    const waiting = this.waiting;
    if (!waiting || !this.ended) return;
    this.waiting = undefined;
    const { error } = this.ended;
    this.ended = {};
    if (error === undefined) waiting.resolve({ value: undefined, done: true });
    else waiting.reject(error);
  }
}
