import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { openRecordedPage, type RecordedPage } from './browser.js';
import { eventually, LIVE_MS, textsOf } from './app-expect.js';

/** The viewports of the screenshots the issue asks for. */
export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

/**
 * Words the connection `status` shows while the app has no working socket, in English and Simplified Chinese
 * ("Reconnecting…", "Offline", "Connecting…"); "Connected" does not match.
 */
export const NOT_CONNECTED = /reconnecting|connecting|offline|disconnected|not connected|重新连接|正在连接|连接中|离线|断开/i;

/** The status's count of messages not acknowledged yet, in English and Simplified Chinese. */
const WAITING_TO_SEND = /waiting to send|等待发送/i;

/**
 * Chromium's own console lines for a request or WebSocket refused while `context.setOffline(true)` holds: expected
 * in the offline tests, and nothing the app printed.
 */
const OFFLINE_NETWORK_ERRORS = /net::ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/;

/**
 * The chat app served at `/`, in a browser of its own, driven only through the accessible names the issue makes
 * its contract (tests outside this repository drive it the same way): inputs labelled Username, Password and
 * Message; buttons Sign in, Sign up, Send, New room and Sign out; a `navigation` named Rooms whose entries are
 * links or buttons named by the room; the open room's messages as `article`s in a `log`; the connection state in
 * a `status`.
 */
export class ChatApp {
  private constructor(
    readonly browser: RecordedPage,
    readonly origin: string,
  ) {}

  /**
   * Opens the app at `origin` in a fresh browser (nothing stored: a new visitor) with the given viewport, and
   * checks the page itself loaded (a missing bundle is a 503).
   */
  static async open(serverUrl: string, viewport: { width: number; height: number } = DESKTOP): Promise<ChatApp> {
    const browser = await openRecordedPage();
    const origin = new URL(serverUrl).origin;
    const app = new ChatApp(browser, origin);
    try {
      await browser.page.setViewportSize(viewport);
      const response = await browser.page.goto(`${origin}/`);
      assert.equal(response?.status(), 200, `the app is served at ${origin}/ (got ${response?.status()}: ${(await response?.text())?.slice(0, 200)})`);
    } catch (error) {
      await browser.close();
      throw error;
    }
    return app;
  }

  get page(): Page {
    return this.browser.page;
  }

  get username(): Locator {
    return this.page.getByLabel('Username', { exact: true });
  }

  get password(): Locator {
    return this.page.getByLabel('Password', { exact: true });
  }

  get messageInput(): Locator {
    return this.page.getByLabel('Message', { exact: true });
  }

  button(name: 'Sign in' | 'Sign up' | 'Send' | 'New room' | 'Sign out'): Locator {
    return this.page.getByRole('button', { name, exact: true });
  }

  /** The room list; visible once signed in. */
  get rooms(): Locator {
    return this.page.getByRole('navigation', { name: 'Rooms', exact: true });
  }

  /**
   * The room list's entry for `name`: a link or button whose accessible name starts with it (a badge inside the
   * entry may add its count after the name).
   */
  roomEntry(name: string): Locator {
    const named = { name: new RegExp(`^\\s*${escapeRegExp(name)}(?![\\w.-])`) };
    return this.rooms.getByRole('link', named).or(this.rooms.getByRole('button', named));
  }

  /** The open room's messages, one `article` each. */
  get log(): Locator {
    return this.page.getByRole('log');
  }

  get messages(): Locator {
    return this.log.getByRole('article');
  }

  get status(): Locator {
    return this.page.getByRole('status');
  }

  /** Signs up through the form and waits for the signed-in app (its room list). */
  async signUp(username: string, password: string): Promise<void> {
    await this.username.fill(username);
    await this.password.fill(password);
    await this.button('Sign up').click();
    await this.rooms.waitFor();
  }

  /** Signs in through the form and waits for the signed-in app (its room list). */
  async signIn(username: string, password: string): Promise<void> {
    await this.username.fill(username);
    await this.password.fill(password);
    await this.button('Sign in').click();
    await this.rooms.waitFor();
  }

  /** Opens a room from the room list and waits for its log. */
  async openRoom(name: string): Promise<void> {
    await this.roomEntry(name).click();
    await this.log.waitFor();
  }

  /** Types a message and sends it with the Send button (or Enter, as a user at a keyboard would). */
  async send(body: string, how: 'button' | 'enter' = 'button'): Promise<void> {
    await this.messageInput.fill(body);
    if (how === 'enter') await this.messageInput.press('Enter');
    else await this.button('Send').click();
  }

  /** Waits until the open room's log shows a message containing `body`. */
  async waitForMessage(body: string, timeoutMs = LIVE_MS): Promise<void> {
    await this.messages.filter({ hasText: body }).first().waitFor({ timeout: timeoutMs });
  }

  /** The text of each message in the open room's log, in order. */
  messageTexts(): Promise<string[]> {
    return textsOf(this.messages);
  }

  /** Waits until the connection `status` says the app is connected (it shows none of the not-connected words). */
  async waitUntilConnected(timeoutMs = LIVE_MS): Promise<void> {
    await eventually(async () => !NOT_CONNECTED.test(await this.statusText()), 'the connection status shows connected', {
      timeoutMs,
      detail: async () => `it shows "${await this.statusText()}"`,
    });
  }

  /** Waits until the `status` shows the app connected with nothing waiting to send ("1 waiting to send"). */
  async waitUntilSettled(timeoutMs = LIVE_MS): Promise<void> {
    await eventually(async () => {
      const text = await this.statusText();
      return !NOT_CONNECTED.test(text) && !WAITING_TO_SEND.test(text);
    }, 'the status shows connected with nothing waiting to send', { timeoutMs, detail: async () => `it shows "${await this.statusText()}"` });
  }

  /** Waits until the connection `status` shows the app is not connected ("Reconnecting…", "Offline"). */
  async waitUntilNotConnected(timeoutMs: number): Promise<void> {
    await eventually(async () => NOT_CONNECTED.test(await this.statusText()), 'the connection status shows the app is not connected', {
      timeoutMs,
      detail: async () => `it shows "${await this.statusText()}"`,
    });
  }

  async statusText(): Promise<string> {
    return (await textsOf(this.status)).join(' | ');
  }

  /**
   * What every test asserts of every page: each request and WebSocket went to the test server's origin (so none
   * left localhost), the page's policy blocked nothing, and (but for the browser's own lines about requests refused
   * while offline, when `wentOffline`) nothing was logged as an error.
   */
  assertStayedHomeAndClean(options: { wentOffline?: boolean } = {}): void {
    const { requests, webSockets, cspViolations, consoleErrors } = this.browser;
    const host = new URL(this.origin).host;
    const elsewhere = requests.filter((url) => !/^(data|blob):/.test(url) && new URL(url).origin !== this.origin);
    assert.deepEqual(elsewhere, [], 'every request went to the test server');
    assert.deepEqual(webSockets.filter((url) => new URL(url).host !== host), [], 'every WebSocket went to the test server');
    assert.deepEqual(cspViolations, [], 'the page’s policy blocked nothing');
    const errors = options.wentOffline ? consoleErrors.filter((line) => !OFFLINE_NETWORK_ERRORS.test(line)) : consoleErrors;
    assert.deepEqual(errors, [], 'nothing was logged as an error');
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
