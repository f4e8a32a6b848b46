import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (.ci/run installs it when missing); `npx playwright install` cannot download one here. */
export const CHROMIUM = '/usr/bin/chromium';

/** Screenshots and other artefacts of browser tests (git-ignored). */
export const TEST_OUTPUT_DIR = path.join(import.meta.dirname, '../../test-output');

/**
 * A headless Chromium page that records what it did: every request (pages and workers), every WebSocket, every
 * Content-Security-Policy violation (the page's `securitypolicyviolation` events and Chromium's "Refused to …"
 * console lines) and console errors. `close()` closes the browser; call it after each test.
 */
export interface RecordedPage {
  page: Page;
  context: BrowserContext;
  readonly requests: readonly string[];
  readonly webSockets: readonly string[];
  readonly cspViolations: readonly string[];
  readonly consoleErrors: readonly string[];
  /** Saves a PNG under test-output/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Launch and navigation limits: a browser test fails within these instead of hanging the suite. */
const LAUNCH_TIMEOUT_MS = 30_000;
const ACTION_TIMEOUT_MS = 15_000;

export async function openRecordedPage(): Promise<RecordedPage> {
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
    // Root needs --no-sandbox; the networking switches keep Chromium's own traffic (updates, sync) off the closed network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
    const page = await context.newPage();
    const requests: string[] = [];
    const webSockets: string[] = [];
    const cspViolations: string[] = [];
    const consoleErrors: string[] = [];
    context.on('request', (request) => void requests.push(request.url()));
    page.on('websocket', (socket) => void webSockets.push(socket.url()));
    page.on('console', (message) => {
      const text = message.text();
      if (/Content Security Policy|Refused to /i.test(text)) cspViolations.push(text);
      else if (message.type() === 'error') consoleErrors.push(text);
    });
    page.on('pageerror', (error) => void consoleErrors.push(error.message));
    // Runs before the page's own scripts (and outside its policy): reports each violation the policy blocks.
    // A string, since this project's TypeScript has no DOM types.
    await page.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
      console.error('Content Security Policy violation: ' + event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline')));`);
    return {
      page,
      context,
      requests,
      webSockets,
      cspViolations,
      consoleErrors,
      async screenshot(name) {
        const file = path.join(TEST_OUTPUT_DIR, `${name}.png`);
        await mkdir(path.dirname(file), { recursive: true });
        await page.screenshot({ path: file });
        return file;
      },
      close: () => browser.close(),
    };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
