import assert from 'node:assert/strict';
import type { Locator } from 'playwright-core';

/** How long a live change (a message from another browser, a badge) may take to show. */
export const LIVE_MS = 10_000;
/**
 * How long a reconnect may take once the network is back: the SDK notices a dead socket within keepAliveMs +
 * pongTimeoutMs (15 s) and retries with a backoff capped at 15 s, so 40 s covers the worst case with room to spare.
 */
export const RECONNECT_MS = 40_000;

const POLL_MS = 50;

/**
 * Waits until `check` holds, polling (Playwright's `expect.poll`, which playwright-core lacks); fails with `what`
 * and, when given, what `detail` says about the state at the deadline. Never a fixed sleep: it returns as soon as
 * the condition holds.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  options: { timeoutMs?: number; detail?: () => Promise<string> | string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? LIVE_MS);
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) {
      const detail = options.detail ? `; ${await options.detail()}` : '';
      assert.fail(`timed out after ${options.timeoutMs ?? LIVE_MS} ms waiting until ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The text of each element `locator` matches, whitespace collapsed. */
export async function textsOf(locator: Locator): Promise<string[]> {
  return (await locator.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
}

/** Waits until some element `locator` matches contains `text`. */
export async function waitForText(locator: Locator, text: string, timeoutMs = LIVE_MS): Promise<void> {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible', timeout: timeoutMs });
}
