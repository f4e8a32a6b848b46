// The chat app (issue 12, part 3) in Chromium, driven only by the accessible names the issue makes its contract
// (see test/helpers/app-page.ts): two browsers chatting, one of them offline, reloads, a direct message, a mention
// badge, and screenshots at desktop and phone width in test-output/app/. Every test asserts that no request left
// the test server and that the page's policy blocked nothing.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { JoinRoomDocument, RoomsDocument, SendMessageDocument } from './__generated__/graphql.js';
import { eventually, LIVE_MS, RECONNECT_MS } from './helpers/app-expect.js';
import { ChatApp, DESKTOP, PHONE } from './helpers/app-page.js';
import { signInOverHttp, storedBodies } from './helpers/app-users.js';
import { createRoom, PASSWORD, roomWithMembers, signUp, uniqueName, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** Each test's own bound: a browser test fails within it instead of hanging the suite. */
const TEST_TIMEOUT_MS = 90_000;
/** The offline tests wait for a dead socket to be noticed and for the reconnect: allow for both. */
const OFFLINE_TEST_TIMEOUT_MS = 110_000;
/**
 * How long the app may take to notice a network that went away (the SDK pings every 10 s and gives a socket up
 * after 5 s without an answer) and say so in its status.
 */
const NOTICE_OFFLINE_MS = 25_000;

describe('the chat app in Chromium', () => {
  let server: TestServer;
  const opened: ChatApp[] = [];

  before(async () => {
    // Production: the page must work under the production policy (no inline scripts, nothing from elsewhere).
    server = await startTestServer({ NODE_ENV: 'production', HOST: '127.0.0.1' });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((app) => app.close()));
  });
  after(() => server.stop());

  async function openApp(viewport: { width: number; height: number } = DESKTOP): Promise<ChatApp> {
    const app = await ChatApp.open(server.url, viewport);
    opened.push(app);
    return app;
  }

  /** Opens the app in a browser of its own and signs `user` in through the form. */
  async function signedIn(user: TestUser, viewport?: { width: number; height: number }): Promise<ChatApp> {
    const app = await openApp(viewport);
    await app.signIn(user.username, PASSWORD);
    return app;
  }

  /** Two users of one room, each signed in in a browser of their own with the room open. */
  async function twoInOneRoom() {
    const [alice, bob] = [await signUp(server, uniqueName('alice')), await signUp(server, uniqueName('bob'))];
    const room = await roomWithMembers(alice, [bob]);
    const [aliceApp, bobApp] = [await signedIn(alice), await signedIn(bob)];
    await aliceApp.openRoom(room.name);
    await bobApp.openRoom(room.name);
    return { alice, bob, room, aliceApp, bobApp };
  }

  it('is served by this server alone under a strict policy; a visitor signs up, starts a room with New room and sends to it', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await openApp();
    const response = await app.page.request.get(`${app.origin}/`);
    const policy = response.headers()['content-security-policy'] ?? '';
    assert.match(policy, /script-src 'self'(;|$)/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|https?:/);

    const username = uniqueName('carol');
    await app.signUp(username, PASSWORD);
    await app.waitUntilConnected();
    await app.button('New room').click();
    const roomName = uniqueName('room');
    // The form's own field (its label is the app's, not the contract's), submitted with Enter.
    await app.page.getByLabel('Room name', { exact: true }).fill(roomName);
    await app.page.getByLabel('Room name', { exact: true }).press('Enter');
    await app.roomEntry(roomName).waitFor();
    await app.openRoom(roomName);
    const body = `first words ${uniqueName('m')}`;
    await app.send(body, 'enter');
    await app.waitForMessage(body);

    const carol = await signInOverHttp(server, username);
    const room = (await carol.http.data(RoomsDocument, {})).rooms.find((r) => r.name === roomName);
    assert.ok(room, `${roomName} exists on the server`);
    assert.deepEqual(await storedBodies(carol, room.id), [body]);
    app.assertStayedHomeAndClean();
  });

  it('two users in two browsers chat both ways, each message shown once on both sides', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { aliceApp, bobApp } = await twoInOneRoom();
    const tag = uniqueName('chat');
    const conversation: [ChatApp, string][] = [
      [aliceApp, `hi bob ${tag}`],
      [bobApp, `hello alice ${tag}`],
      [aliceApp, `how are you ${tag}`],
      [bobApp, `fine thanks ${tag}`],
    ];
    for (const [sender, body] of conversation) {
      await sender.send(body);
      await aliceApp.waitForMessage(body);
      await bobApp.waitForMessage(body);
    }
    const bodies = conversation.map(([, body]) => body);
    for (const app of [aliceApp, bobApp]) {
      assert.deepEqual(occurrences(await app.messageTexts(), bodies), bodies.map(() => 1), 'each message shown once');
      assert.deepEqual(orderOf(await app.messageTexts(), bodies), bodies, 'in the order sent');
      app.assertStayedHomeAndClean();
    }
  });

  it('a user who was offline gets exactly the 5 messages sent meanwhile, once each, in order', { timeout: OFFLINE_TEST_TIMEOUT_MS }, async () => {
    const { bob, room, aliceApp, bobApp } = await twoInOneRoom();
    const tag = uniqueName('away');
    // Both live: a message from Bob reaches Alice before she goes offline.
    await bobApp.send(`before ${tag}`);
    await aliceApp.waitForMessage(`before ${tag}`);
    const shownBefore = await aliceApp.messages.count();

    await aliceApp.browser.context.setOffline(true);
    const burst = [1, 2, 3, 4, 5].map((n) => `burst ${n} of 5 ${tag}`);
    for (const body of burst) await bobApp.send(body, 'enter');
    await eventually(async () => occurrences(await storedBodies(bob, room.id), burst).every((n) => n === 1), 'the 5 are stored', {
      detail: async () => `stored: ${JSON.stringify(await storedBodies(bob, room.id))}`,
    });
    // Chromium's offline emulation holds an open WebSocket's frames (it does not close it): nothing may show yet.
    assert.deepEqual(occurrences(await aliceApp.messageTexts(), burst), [0, 0, 0, 0, 0], 'nothing reaches a browser that is offline');
    await aliceApp.waitUntilNotConnected(NOTICE_OFFLINE_MS);

    await aliceApp.browser.context.setOffline(false);
    await eventually(async () => occurrences(await aliceApp.messageTexts(), burst).every((n) => n > 0), 'all 5 show after reconnecting', {
      timeoutMs: RECONNECT_MS,
      detail: async () => `the log shows ${JSON.stringify(await aliceApp.messageTexts())}`,
    });
    await aliceApp.waitUntilConnected();
    // A barrier: Alice's own message after the burst, seen on both sides, so a late duplicate would be in by now.
    await aliceApp.send(`back ${tag}`);
    await bobApp.waitForMessage(`back ${tag}`);
    await aliceApp.waitForMessage(`back ${tag}`);

    const texts = await aliceApp.messageTexts();
    assert.deepEqual(occurrences(texts, burst), [1, 1, 1, 1, 1], 'each of the 5 exactly once');
    assert.deepEqual(orderOf(texts, burst), burst, 'in the order sent');
    assert.equal(texts.length, shownBefore + burst.length + 1, `nothing else was added: ${JSON.stringify(texts)}`);
    aliceApp.assertStayedHomeAndClean({ wentOffline: true });
    bobApp.assertStayedHomeAndClean();
  });

  it('a message typed while offline is delivered, once, after reconnecting', { timeout: OFFLINE_TEST_TIMEOUT_MS }, async () => {
    const { alice, room, aliceApp, bobApp } = await twoInOneRoom();
    const tag = uniqueName('outbox');
    await bobApp.send(`are you there ${tag}`);
    await aliceApp.waitForMessage(`are you there ${tag}`);

    await aliceApp.browser.context.setOffline(true);
    await aliceApp.waitUntilNotConnected(NOTICE_OFFLINE_MS);
    const body = `typed offline ${tag}`;
    await aliceApp.send(body, 'enter');
    await aliceApp.waitForMessage(body); // shown (as pending) where it was typed
    assert.equal(occurrences(await bobApp.messageTexts(), [body])[0], 0, 'not delivered while offline');
    assert.ok(!(await storedBodies(alice, room.id)).includes(body), 'not stored while offline');

    await aliceApp.browser.context.setOffline(false);
    await bobApp.waitForMessage(body, RECONNECT_MS);
    await aliceApp.waitUntilConnected(RECONNECT_MS);
    // A barrier: Bob's reply after it, seen by both, so a second copy would be in by now.
    await bobApp.send(`got it ${tag}`);
    await aliceApp.waitForMessage(`got it ${tag}`);
    await bobApp.waitForMessage(`got it ${tag}`);
    for (const app of [aliceApp, bobApp]) {
      assert.deepEqual(occurrences(await app.messageTexts(), [body]), [1], 'shown once');
    }
    assert.deepEqual((await storedBodies(alice, room.id)).filter((b) => b === body), [body], 'stored once');
    aliceApp.assertStayedHomeAndClean({ wentOffline: true });
    bobApp.assertStayedHomeAndClean();
  });

  it('a reload keeps the session, the room list and the messages; after Sign out a reload shows the sign-in form', { timeout: TEST_TIMEOUT_MS }, async () => {
    const app = await openApp();
    const username = uniqueName('dave');
    await app.signUp(username, PASSWORD);
    const dave = await signInOverHttp(server, username);
    const room = await createRoom(dave);

    await app.page.reload();
    await app.rooms.waitFor();
    assert.equal(await app.username.count(), 0, 'no sign-in form after a reload');
    await app.openRoom(room.name);
    const body = `still here ${uniqueName('m')}`;
    await app.send(body);
    await app.waitForMessage(body);
    await app.waitUntilConnected();

    await app.page.reload();
    await app.rooms.waitFor();
    await app.openRoom(room.name);
    await app.waitForMessage(body);
    await app.waitUntilConnected();

    await app.button('Sign out').click();
    await app.username.waitFor();
    await app.page.reload();
    await app.username.waitFor();
    await app.password.waitFor();
    assert.equal(await app.rooms.count(), 0, 'signed out stays signed out');
    app.assertStayedHomeAndClean();
  });

  it('a direct message: started from the people search, shown under the other user’s name on both sides, both write', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [alice, bob] = [await signUp(server, uniqueName('alice')), await signUp(server, uniqueName('bob'))];
    const [aliceApp, bobApp] = [await signedIn(alice), await signedIn(bob)];
    await bobApp.waitUntilConnected();

    // The people search is the app's own (its names are not in the contract): Direct message, Find people, Chat with.
    await aliceApp.page.getByRole('button', { name: 'Direct message', exact: true }).click();
    await aliceApp.page.getByLabel('Find people', { exact: true }).fill(bob.username);
    await aliceApp.page.getByRole('button', { name: `Chat with ${bob.username}`, exact: true }).click();
    await aliceApp.log.waitFor();
    await aliceApp.roomEntry(bob.username).waitFor();
    const body = `just between us ${uniqueName('dm')}`;
    await aliceApp.send(body);
    await aliceApp.waitForMessage(body);

    // Bob's list shows the conversation from its first message on, under Alice's name, without a reload.
    await bobApp.roomEntry(alice.username).waitFor({ timeout: LIVE_MS });
    await bobApp.openRoom(alice.username);
    await bobApp.waitForMessage(body);
    const reply = `sure ${uniqueName('dm')}`;
    await bobApp.send(reply);
    await aliceApp.waitForMessage(reply);
    const dm = (await alice.http.data(RoomsDocument, {})).rooms.find((r) => r.kind === 'DIRECT');
    assert.ok(dm, 'a DIRECT room exists on the server');
    assert.deepEqual(await storedBodies(alice, dm.id), [body, reply]);
    aliceApp.assertStayedHomeAndClean();
    bobApp.assertStayedHomeAndClean();
  });

  it('a mention in another room shows a badge on that room in the list, gone once the room is read', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [alice, bob] = [await signUp(server, uniqueName('alice')), await signUp(server, uniqueName('bob'))];
    const [lobby, elsewhere] = [await roomWithMembers(alice, [bob]), await roomWithMembers(alice, [bob])];
    const bobApp = await signedIn(bob);
    await bobApp.openRoom(elsewhere.name);
    await bobApp.waitUntilConnected();
    const entry = bobApp.roomEntry(lobby.name);
    const quiet = await entryText(entry);

    // A plain message first: whatever unread count it shows, the mention must add something of its own.
    await alice.http.data(SendMessageDocument, { roomId: lobby.id, body: `plain ${uniqueName('m')}` });
    await eventually(async () => (await entryText(entry)) !== quiet, 'the unread message shows on the entry', {
      detail: async () => `the entry reads "${await entryText(entry)}"`,
    });
    const unread = await entryText(entry);
    await alice.http.data(SendMessageDocument, { roomId: lobby.id, body: `@${bob.username} look at this` });
    await eventually(async () => (await mentionBadge(entry)) !== undefined, 'a mention badge shows on the entry', {
      detail: async () => `the entry reads "${await entryText(entry)}" (with one unread message: "${unread}")`,
    });

    await bobApp.openRoom(lobby.name);
    await bobApp.waitForMessage('look at this');
    await bobApp.openRoom(elsewhere.name);
    await eventually(async () => (await mentionBadge(entry)) === undefined, 'the mention badge is gone once the room was read', {
      detail: async () => `the entry reads "${await entryText(entry)}"`,
    });
    bobApp.assertStayedHomeAndClean();
  });

  it('screenshots at desktop and phone width; at phone width the open room can be read and written to', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Plain names read better in the README's screenshots; this server's database is this file's own.
    const [alice, bob] = [await signUp(server, 'alice'), await signUp(server, 'bob')];
    const room = await namedRoom(alice, [bob], 'general');
    await namedRoom(alice, [bob], 'design');
    await namedRoom(bob, [alice], 'random');
    const lines: [TestUser, string][] = [
      [alice, 'Morning! Is the release still on for today?'],
      [bob, 'Yes, once the last review is in.'],
      [alice, `@${bob.username} I can take that review.`],
      [bob, 'Thanks, that would be great.'],
    ];
    for (const [author, body] of lines) await author.http.data(SendMessageDocument, { roomId: room.id, body });

    const signInPage = await openApp(PHONE);
    await signInPage.username.waitFor();
    const shots = [await signInPage.browser.screenshot('app/phone-sign-in')];

    const desktop = await signedIn(alice, DESKTOP);
    await desktop.openRoom('general');
    await desktop.waitForMessage('Thanks, that would be great.');
    await desktop.send('Done: approved.');
    await desktop.waitForMessage('Done: approved.');
    await desktop.waitUntilSettled();
    shots.push(await desktop.browser.screenshot('app/desktop-room'));

    const phone = await signedIn(bob, PHONE);
    await phone.openRoom('general');
    await phone.waitForMessage('Done: approved.');
    for (const control of [phone.messageInput, phone.button('Send'), phone.messages.last()]) {
      await control.waitFor();
      const box = await control.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= PHONE.width + 1, `within the phone's width: ${JSON.stringify(box)}`);
    }
    await phone.send('On my way.');
    await phone.waitForMessage('On my way.');
    await phone.waitUntilSettled();
    shots.push(await phone.browser.screenshot('app/phone-room'));

    assert.deepEqual(
      shots.map((file) => file.slice(file.indexOf('test-output'))),
      ['test-output/app/phone-sign-in.png', 'test-output/app/desktop-room.png', 'test-output/app/phone-room.png'],
    );
    for (const app of [signInPage, desktop, phone]) app.assertStayedHomeAndClean();
  });
});

/** How many of `texts` contain each of `bodies`. */
function occurrences(texts: readonly string[], bodies: readonly string[]): number[] {
  return bodies.map((body) => texts.filter((text) => text.includes(body)).length);
}

/** `bodies` in the order their first occurrences appear in `texts` (missing ones left out). */
function orderOf(texts: readonly string[], bodies: readonly string[]): string[] {
  return bodies
    .map((body) => ({ body, at: texts.findIndex((text) => text.includes(body)) }))
    .filter(({ at }) => at >= 0)
    .sort((a, b) => a.at - b.at)
    .map(({ body }) => body);
}

/** A public room with this name, owned by `owner`, that each of `members` joined. */
async function namedRoom(owner: TestUser, members: TestUser[], name: string) {
  const room = await createRoom(owner, 'PUBLIC', name);
  for (const member of members) await member.http.data(JoinRoomDocument, { roomId: room.id });
  return room;
}

/** What a room entry says to a screen reader: its role and name, what it contains, and its description. */
async function entryText(entry: Locator): Promise<string> {
  const snapshot = (await entry.ariaSnapshot()).replace(/\s+/g, ' ').trim();
  const description = (await entry.getAttribute('aria-description')) ?? '';
  return description ? `${snapshot} (${description})` : snapshot;
}

/** What the entry says when it shows a mention badge: "n mention(s)" / "提及", or an "@" with a count. */
async function mentionBadge(entry: Locator): Promise<string | undefined> {
  const text = await entryText(entry);
  return /mention|提及|@\s*\d+/i.test(text) ? text : undefined;
}
