import type { TestServer } from './test-server.js';

/**
 * Waits until at least `count` statements of the server's database wait for a lock: how a test knows a request
 * has reached a lock it holds (a condition polled with a deadline, not a sleep).
 */
export async function waitForLockWaiters(server: TestServer, count = 1, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await server.sql<{ waiting: string }>(
      `SELECT count(*) AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    if (Number(row!.waiting) >= count) return;
    if (Date.now() > deadline) throw new Error(`expected ${count} statements waiting for a lock, saw ${row!.waiting}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
