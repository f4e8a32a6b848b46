/** Items pushed by event handlers, taken in order by tests that wait with a deadline instead of sleeping. */
export class AsyncQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: ((item: T) => void)[] = [];

  push(item: T): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  get size(): number {
    return this.items.length;
  }

  /** The next item; rejects when none arrives within `timeoutMs`. */
  take(timeoutMs = 5000, what = 'an item'): Promise<T> {
    const ready = this.items.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise<T>((resolve, reject) => {
      const waiter = (item: T) => {
        clearTimeout(timer);
        resolve(item);
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next `count` items. */
  async takeMany(count: number, timeoutMs = 10_000, what = 'items'): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    const taken: T[] = [];
    while (taken.length < count) {
      taken.push(await this.take(Math.max(1, deadline - Date.now()), `${what} (${taken.length}/${count} so far)`));
    }
    return taken;
  }
}
