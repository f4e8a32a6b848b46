import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { SendMessageDocument } from './__generated__/graphql.js';
import { openRecordedPage, type RecordedPage } from './helpers/browser.js';
import { createRoom, PASSWORD, signUp, uniqueName, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('the GraphiQL playground in development, in Chromium', () => {
  let server: TestServer;
  let alice: TestUser;
  let browser: RecordedPage | undefined;
  before(async () => {
    server = await startTestServer({ NODE_ENV: 'development' });
    alice = await signUp(server);
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });
  after(() => server.stop());

  it('loads from this server alone under its strict policy, runs a query and a subscription over graphql-ws', async () => {
    browser = await openRecordedPage();
    const { page } = browser;
    const origin = new URL(server.url).origin;

    const response = await page.goto(server.url);
    assert.equal(response?.status(), 200);
    const policy = response?.headers()['content-security-policy'] ?? '';
    assert.match(policy, /script-src 'self'(;|$)/);
    assert.match(policy, /worker-src 'self'(;|$)/);
    assert.match(policy, new RegExp(`connect-src 'self' ws://${new URL(server.url).host} wss://${new URL(server.url).host}(;|$)`));
    assert.doesNotMatch(policy, /https?:|blob:|unsafe-eval/);

    const queryEditor = page.locator('section[aria-label="Operation Editor"] .monaco-editor');
    const headersEditor = page.locator('section[aria-label="Headers"] .graphiql-editor:not(.hidden) .monaco-editor');
    await queryEditor.waitFor();
    assert.match(await editorText(headersEditor), /"Authorization": "Bearer <token from signIn>"/);

    // The schema's docs, from introspection over HTTP.
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    await page.locator('.graphiql-doc-explorer').getByRole('link', { name: 'Subscription' }).waitFor();

    // A mutation over HTTP with the example header as it came: the placeholder is not sent as a token.
    const bob = uniqueName('bob');
    await replaceText(page, queryEditor, `mutation SignUpBob { signUp(username: "${bob}", password: "${PASSWORD}") { user { username } } }`);
    await run(page, 'SignUpBob');
    await waitForResult(page, `"username": "${bob}"`);

    // A subscription over graphql-ws, authenticated by the headers editor; a message sent over HTTP shows up.
    const room = await createRoom(alice);
    await replaceText(page, headersEditor, JSON.stringify({ Authorization: `Bearer ${alice.token}` }));
    await replaceText(page, queryEditor, `subscription Live { messageAdded(roomId: "${room.id}") { body author { username } } }`);
    await run(page, 'Live');
    await waitUntil(() => server.stats().subscriptions >= 1, 'the subscription reached the server');
    const body = `hello from the test ${uniqueName('m')}`;
    await alice.http.data(SendMessageDocument, { roomId: room.id, body });
    await waitForResult(page, `"body": "${body}"`);
    assert.match(await resultText(page), new RegExp(`"username": "${alice.username}"`));

    await browser.screenshot('playground/graphiql');
    assert.deepEqual(browser.webSockets, [server.wsUrl]);
    const elsewhere = browser.requests.filter((url) => new URL(url).origin !== origin);
    assert.deepEqual(elsewhere, [], 'every request went to the test server');
    assert.ok(browser.requests.some((url) => url.includes('.worker')), 'Monaco’s workers loaded from the server');
    assert.deepEqual(browser.cspViolations, []);
    assert.deepEqual(browser.consoleErrors, []);
  });
});

describe('the playground outside GraphiQL’s default', () => {
  it('production serves no playground: no page, no bundle', async () => {
    const server = await startTestServer({ NODE_ENV: 'production' });
    try {
      const page = await fetch(server.url, { headers: HTML });
      assert.notEqual(page.status, 200);
      assert.doesNotMatch(await page.text(), /graphiql|sandbox|<html/i);
      assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.equal((await fetch(new URL('/playground-assets/index.html', server.url))).status, 404);
    } finally {
      await server.stop();
    }
  });

  it('PLAYGROUND=sandbox serves Apollo Sandbox (from Apollo’s CDN, its policy report-only) instead of GraphiQL', async () => {
    const server = await startTestServer({ NODE_ENV: 'development', PLAYGROUND: 'sandbox' });
    try {
      const page = await fetch(server.url, { headers: HTML });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /embeddable-sandbox\.cdn\.apollographql\.com/);
      assert.doesNotMatch(html, /playground-assets/);
      assert.match(page.headers.get('content-security-policy-report-only') ?? '', /frame-src 'self' https:\/\/sandbox\.embed\.apollographql\.com/);
      assert.equal((await fetch(new URL('/playground-assets/index.html', server.url))).status, 404);
    } finally {
      await server.stop();
    }
  });

  it('PLAYGROUND=off serves no page in development', async () => {
    const server = await startTestServer({ NODE_ENV: 'development', PLAYGROUND: 'off' });
    try {
      const page = await fetch(server.url, { headers: HTML });
      assert.notEqual(page.status, 200);
      assert.doesNotMatch(await page.text(), /graphiql|sandbox|<html/i);
    } finally {
      await server.stop();
    }
  });
});

/** The text of a Monaco editor's rendered lines (Monaco renders spaces as no-break spaces). */
async function editorText(editor: Locator): Promise<string> {
  const lines = await editor.locator('.view-lines .view-line').allTextContents();
  return lines.join('\n').replace(/\u00a0/g, ' ');
}

/** Replaces an editor's contents as a user pasting would (typing would trigger Monaco's bracket completion). */
async function replaceText(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.click({ position: { x: 80, y: 10 } }); // the first line, right of the line numbers
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** Runs the operation once GraphiQL has taken in the edit (its tab is named after the operation). */
async function run(page: Page, operationName: string): Promise<void> {
  await page.locator('.graphiql-tab', { hasText: operationName }).waitFor();
  await page.getByRole('button', { name: /^Execute query/ }).click();
}

async function resultText(page: Page): Promise<string> {
  // Monaco draws its lines on an animation frame, and headless Chromium runs one here only when something waits
  // for it: wait for one, so the DOM shows what the pane holds.
  await page.evaluate('new Promise((resolve) => requestAnimationFrame(resolve))');
  return editorText(page.locator('.graphiql-response .monaco-editor'));
}

async function waitForResult(page: Page, expected: string): Promise<void> {
  await waitUntil(async () => (await resultText(page)).includes(expected), `the result pane shows ${expected}`, async () => `it shows: ${await resultText(page)}`);
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, detail?: () => Promise<string>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}${detail ? `; ${await detail()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
