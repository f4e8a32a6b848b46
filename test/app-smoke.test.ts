import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { JoinRoomDocument, SendMessageDocument } from './__generated__/graphql.js';
import { openRecordedPage, type RecordedPage } from './helpers/browser.js';
import { createRoom, PASSWORD, signUp, uniqueName } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

// A smoke test of the chat app at / (the full browser suite is test/app*.test.ts by its own author).
describe('the chat app at /, in Chromium', () => {
  let server: TestServer;
  let browser: RecordedPage | undefined;
  before(async () => {
    server = await startTestServer({ NODE_ENV: 'development' });
  });
  afterEach(async () => {
    await browser?.close();
    browser = undefined;
  });
  after(() => server.stop());

  it('signs up, creates a room, sends with Enter, shows a message from elsewhere live, and keeps the session on reload', async () => {
    browser = await openRecordedPage();
    const { page } = browser;
    const origin = new URL(server.url).origin;

    const response = await page.goto(`${origin}/`);
    assert.equal(response?.status(), 200);
    const policy = response?.headers()['content-security-policy'] ?? '';
    assert.match(policy, /script-src 'self'(;|$)/);
    assert.match(policy, new RegExp(`connect-src 'self' ws://${new URL(server.url).host} wss://${new URL(server.url).host}(;|$)`));

    const username = uniqueName('ann');
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();

    const roomName = uniqueName('room');
    await page.getByRole('button', { name: 'New room' }).click();
    await page.getByLabel('Room name').fill(roomName);
    await page.getByRole('button', { name: 'Create room' }).click();
    await page.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: roomName }).waitFor();

    const log = page.getByRole('log');
    await page.getByLabel('Message').fill('hello from the app');
    await page.getByLabel('Message').press('Enter');
    await log.getByRole('article').filter({ hasText: 'hello from the app' }).waitFor();

    // Another user joins over the API and writes: the message arrives live.
    const bob = await signUp(server);
    const roomId = new URL(page.url()).pathname.split('/').pop()!;
    await bob.http.data(JoinRoomDocument, { roomId });
    await bob.http.data(SendMessageDocument, { roomId, body: 'hi from bob' });
    await log.getByRole('article').filter({ hasText: 'hi from bob' }).waitFor();

    await page.reload();
    await page.getByRole('log').getByRole('article').filter({ hasText: 'hello from the app' }).waitFor();
    assert.equal(await page.getByLabel('Username').count(), 0, 'still signed in after a reload');
    await browser.screenshot('app/smoke-desktop');
    await page.setViewportSize({ width: 390, height: 800 });
    await browser.screenshot('app/smoke-phone');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Username').waitFor();

    const elsewhere = browser.requests.filter((url) => new URL(url).origin !== origin);
    assert.deepEqual(elsewhere, [], 'every request went to the test server');
    assert.deepEqual(browser.cspViolations, []);
    assert.deepEqual(browser.consoleErrors, []);
  });

  it('a client route (/rooms/<id>) gets the app page', async () => {
    const owner = await signUp(server);
    const room = await createRoom(owner);
    const page = await fetch(`${server.url.replace(/\/graphql$/, '')}/rooms/${room.id}`, { headers: HTML });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module" crossorigin src="\/app-assets\//);
  });
});

describe('the chat app in production', () => {
  it('is served at / with no inline script, and /graphql stays the API', async () => {
    const server = await startTestServer({ NODE_ENV: 'production' });
    try {
      const origin = new URL(server.url).origin;
      const page = await fetch(`${origin}/`, { headers: HTML });
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
      const policy = page.headers.get('content-security-policy') ?? '';
      assert.match(policy, /script-src 'self'(;|$)/);
      assert.doesNotMatch(policy, /unsafe-inline|https?:/);
      const script = /src="(\/app-assets\/[^"]+\.js)"/.exec(html)?.[1];
      assert.ok(script);
      const asset = await fetch(`${origin}${script}`);
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
      const api = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __typename }' }) });
      assert.equal(api.status, 200);
      assert.deepEqual(await api.json(), { data: { __typename: 'Query' } });
    } finally {
      await server.stop();
    }
  });
});
