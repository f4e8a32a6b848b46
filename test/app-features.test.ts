// The chat app's features beyond the contract's core (issue 12, part 3), each checked in Chromium against a real
// test server: history paging (scroll up and Load older), the typing indicator, the directory and join,
// invitations (invite by user search, accept), the member list with presence, browser notifications for mentions
// and DMs while the tab is hidden, edit and delete of one's own messages, reply, reactions, search with
// highlights, and Simplified Chinese. Driven by role and label locators (the contract's names, and the app's own
// visible names for controls outside the contract); every test asserts that no request left the test server, that
// the page's policy blocked nothing and that nothing was logged as an error.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { DeleteMessageDocument, OpenDirectRoomDocument, SendMessageDocument, SetStatusDocument } from './__generated__/graphql.js';
import { eventually, LIVE_MS } from './helpers/app-expect.js';
import { ChatApp, DESKTOP } from './helpers/app-page.js';
import { storedBodies } from './helpers/app-users.js';
import { createRoom, PASSWORD, roomWithMembers, signUp, uniqueName, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** Each test's own bound: a browser test fails within it instead of hanging the suite. */
const TEST_TIMEOUT_MS = 90_000;

describe('the chat app’s features in Chromium', () => {
  let server: TestServer;
  const opened: ChatApp[] = [];

  before(async () => {
    // Production: the features must work under the production policy (no inline scripts, nothing from elsewhere).
    server = await startTestServer({ NODE_ENV: 'production', HOST: '127.0.0.1' });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((app) => app.close()));
  });
  after(() => server.stop());

  async function openApp(viewport = DESKTOP): Promise<ChatApp> {
    const app = await ChatApp.open(server.url, viewport);
    opened.push(app);
    return app;
  }

  async function signedIn(user: TestUser): Promise<ChatApp> {
    const app = await openApp();
    await app.signIn(user.username, PASSWORD);
    await app.waitUntilConnected();
    return app;
  }

  /** Users signed up over HTTP, one for each prefix, in order. */
  async function users<const P extends readonly string[]>(...prefixes: P): Promise<{ [K in keyof P]: TestUser }> {
    const list: TestUser[] = [];
    for (const prefix of prefixes) list.push(await signUp(server, uniqueName(prefix)));
    return list as { [K in keyof P]: TestUser };
  }

  /** Two users of one room, each signed in in a browser of their own with the room open. */
  async function twoInOneRoom() {
    const [alice, bob] = await users('alice', 'bob');
    const room = await roomWithMembers(alice, [bob]);
    const [aliceApp, bobApp] = [await signedIn(alice), await signedIn(bob)];
    await aliceApp.openRoom(room.name);
    await bobApp.openRoom(room.name);
    return { alice, bob, room, aliceApp, bobApp };
  }

  it('history: scrolling up pages older messages in, Load older pages the rest, then the beginning shows', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [alice] = await users('alice');
    const room = await createRoom(alice);
    const tag = uniqueName('h');
    const bodies = Array.from({ length: 110 }, (_, i) => `history ${String(i + 1).padStart(3, '0')} ${tag}`);
    for (const body of bodies) await alice.http.data(SendMessageDocument, { roomId: room.id, body });

    const app = await signedIn(alice);
    await app.openRoom(room.name);
    await app.waitForMessage(bodies[109]!);
    const loadOlder = app.log.getByRole('button', { name: 'Load older', exact: true });
    await loadOlder.waitFor();
    assert.equal(await app.messages.count(), 50, 'the newest page first');
    assert.ok((await app.messageTexts())[0]!.includes(bodies[60]!), 'the page holds the newest 50');

    // Scrolling up to the top of the log pages the next 50 in, keeping the reader's place.
    await app.log.hover();
    await app.page.mouse.wheel(0, -100_000);
    await eventually(async () => (await app.messages.count()) >= 100, 'scrolling up shows 100 messages', {
      detail: async () => `${await app.messages.count()} shown`,
    });
    assert.equal(await app.messages.count(), 100);
    // The reader's place is kept: the message that was at the top is still in view, not pushed down out of it.
    const logBox = await app.log.boundingBox();
    const keptBox = await app.messages.filter({ hasText: bodies[60]! }).boundingBox();
    assert.ok(logBox && keptBox && keptBox.y + keptBox.height > logBox.y && keptBox.y < logBox.y + logBox.height, `still in view: ${JSON.stringify({ logBox, keptBox })}`);
    await app.log.getByRole('article').filter({ hasText: bodies[10]! }).waitFor();

    await loadOlder.click();
    await waitForTextIn(app.log, /This is the beginning of the room\./);
    assert.equal(await loadOlder.count(), 0, 'no Load older at the beginning');
    const texts = await app.messageTexts();
    assert.equal(texts.length, 110);
    bodies.forEach((body, i) => assert.ok(texts[i]!.includes(body), `message ${i + 1} in order: ${texts[i]}`));
    app.assertStayedHomeAndClean();
  });

  it('typing indicator: one user types, the other sees "<name> is typing…", gone once the message is sent', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { alice, room, aliceApp, bobApp } = await twoInOneRoom();
    // The open room is a region named by its heading ("#name").
    const roomIn = (app: ChatApp) => app.page.getByRole('region', { name: `#${room.name}`, exact: true });
    const typing = new RegExp(`${alice.username} is typing…`);
    // Typing is ephemeral (never replayed): bob's room stream must be live first, and once a message reached it, it
    // is. The message goes over HTTP, not through alice's message box, which would itself send typing changes.
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'warming up' });
    await bobApp.waitForMessage('warming up');
    await aliceApp.messageInput.pressSequentially('hello the', { delay: 20 });
    await waitForTextIn(roomIn(bobApp), typing);
    await aliceApp.messageInput.pressSequentially('re', { delay: 20 });
    await aliceApp.messageInput.press('Enter');
    await bobApp.waitForMessage('hello there');
    await waitForTextIn(roomIn(bobApp), typing, LIVE_MS, false);
    // The sender never sees themselves typing.
    assert.doesNotMatch(await roomIn(aliceApp).innerText(), /is typing…/);
    aliceApp.assertStayedHomeAndClean();
    bobApp.assertStayedHomeAndClean();
  });

  it('directory: a public room is found by name and joined; it opens and joins the room list', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [alice, bob] = await users('alice', 'bob');
    const room = await createRoom(alice, 'PUBLIC', uniqueName('town'));
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'welcome to town' });
    const bobApp = await signedIn(bob);
    assert.equal(await bobApp.roomEntry(room.name).count(), 0, 'not in Bob’s list before he joins');

    await bobApp.page.getByRole('button', { name: 'Browse rooms', exact: true }).click();
    const directory = bobApp.page.getByRole('region', { name: 'Browse rooms', exact: true });
    await directory.getByLabel('Search rooms', { exact: true }).fill(room.name);
    await directory.getByRole('button', { name: `Join ${room.name}`, exact: true }).click();
    await bobApp.roomEntry(room.name).waitFor();
    await bobApp.log.waitFor();
    await bobApp.waitForMessage('welcome to town');
    await bobApp.send(`hi all ${room.name}`);
    await bobApp.waitForMessage(`hi all ${room.name}`);
    assert.deepEqual(await storedBodies(alice, room.id), ['welcome to town', `hi all ${room.name}`]);
    bobApp.assertStayedHomeAndClean();
  });

  it('invitations: a member invites by searching the user; the invitation shows live and is accepted', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [alice, bob] = await users('alice', 'bob');
    const room = await createRoom(alice, 'PRIVATE', uniqueName('secret'));
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'only invited people here' });
    const [aliceApp, bobApp] = [await signedIn(alice), await signedIn(bob)];
    await aliceApp.openRoom(room.name);

    await aliceApp.page.getByRole('button', { name: 'Invite', exact: true }).click();
    const invite = aliceApp.page.getByRole('region', { name: 'Invite', exact: true });
    await invite.getByLabel('Find people', { exact: true }).fill(bob.username);
    await invite.getByRole('button', { name: `Invite ${bob.username}`, exact: true }).click();
    await waitForTextIn(invite, new RegExp(`${bob.username} was invited`));

    const accept = bobApp.rooms.getByRole('button', { name: `Join ${room.name}`, exact: true });
    await accept.waitFor({ timeout: LIVE_MS });
    await accept.click();
    await bobApp.roomEntry(room.name).waitFor();
    await bobApp.log.waitFor();
    await bobApp.waitForMessage('only invited people here');
    assert.equal(await accept.count(), 0, 'the invitation is gone once accepted');
    await bobApp.send('thanks for the invite');
    await aliceApp.waitForMessage('thanks for the invite');
    aliceApp.assertStayedHomeAndClean();
    bobApp.assertStayedHomeAndClean();
  });

  it('member list: the open room’s members with their presence (online while connected, offline otherwise), kept live', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [alice, bob, carol] = await users('alice', 'bob', 'carol');
    const room = await roomWithMembers(alice, [bob, carol]);
    const [aliceApp, bobApp] = [await signedIn(alice), await signedIn(bob)];
    await aliceApp.openRoom(room.name);
    await aliceApp.page.getByRole('button', { name: 'Members', exact: true }).click();
    const members = aliceApp.page.getByRole('region', { name: 'Members', exact: true });
    const row = (user: TestUser) => members.getByRole('listitem').filter({ hasText: user.username });
    await eventually(async () => (await members.getByRole('listitem').count()) === 3, 'three members are listed', {
      detail: async () => JSON.stringify(await members.getByRole('listitem').allInnerTexts()),
    });
    await waitForTextIn(row(alice), /online/);
    await waitForTextIn(row(alice), /owner/);
    await waitForTextIn(row(bob), /online/);
    await waitForTextIn(row(carol), /offline/);
    // Live through the SDK's presence subscription: bob going away shows without reopening the list.
    await bob.http.data(SetStatusDocument, { status: 'AWAY' });
    await waitForTextIn(row(bob), /away/);
    aliceApp.assertStayedHomeAndClean();
    bobApp.assertStayedHomeAndClean();
  });

  it('notifications: with permission and the tab hidden, a mention and a DM each create a browser notification', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [alice, bob] = await users('alice', 'bob');
    const room = await roomWithMembers(alice, [bob]);
    const bobApp = await openApp();
    // Injected by the driver (outside the page's policy): records each Notification, and lets the test hide the page.
    await bobApp.page.addInitScript(`(() => {
      const Original = window.Notification;
      window.__notifications = [];
      window.__notificationObjects = [];
      class Recorded extends Original {
        constructor(title, options) {
          super(title, options);
          window.__notifications.push({ title, body: options && options.body });
          window.__notificationObjects.push(this);
        }
      }
      window.Notification = Recorded;
      let hidden = false;
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
      window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event('visibilitychange')); };
    })();`);
    await bobApp.page.reload();
    await bobApp.signIn(bob.username, PASSWORD);
    await bobApp.waitUntilConnected();
    // The app asks for the permission only when the user says so.
    const enable = bobApp.page.getByRole('button', { name: 'Enable notifications', exact: true });
    await enable.waitFor();
    await bobApp.browser.context.grantPermissions(['notifications'], { origin: bobApp.origin });
    await enable.click();
    await enable.waitFor({ state: 'hidden' });
    const notifications = () => bobApp.page.evaluate('window.__notifications') as Promise<{ title: string; body: string }[]>;

    // Visible: nothing is notified.
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: `@${bob.username} while you look` });
    await eventually(async () => /mention/.test((await bobApp.roomEntry(room.name).getAttribute('aria-description')) ?? ''), 'the mention shows');
    assert.deepEqual(await notifications(), [], 'no notification while the page is visible');

    await bobApp.page.evaluate('window.__setHidden(true)');
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: `@${bob.username} are you there?` });
    await eventually(async () => (await notifications()).length === 1, 'a notification for the mention', {
      detail: async () => JSON.stringify(await notifications()),
    });
    assert.deepEqual(await notifications(), [{ title: `${alice.username} mentioned you in ${room.name}`, body: `@${bob.username} are you there?` }]);

    const { openDirectRoom: dm } = await alice.http.data(OpenDirectRoomDocument, { userId: bob.id });
    await alice.http.data(SendMessageDocument, { roomId: dm.id, body: 'a private word' });
    await eventually(async () => (await notifications()).length === 2, 'a notification for the DM', {
      detail: async () => JSON.stringify(await notifications()),
    });
    assert.deepEqual((await notifications())[1], { title: `${alice.username} sent you a message`, body: 'a private word' });

    // Clicking the notification (as the browser would call its onclick) opens the conversation.
    await bobApp.page.evaluate('window.__setHidden(false); window.__notificationObjects[1].onclick()');
    await bobApp.page.getByRole('heading', { name: `@${alice.username}`, exact: true }).waitFor();
    await bobApp.waitForMessage('a private word');
    bobApp.assertStayedHomeAndClean();
  });

  it('edit and delete: the author edits and deletes their own message, seen live by the other; others’ messages offer neither', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { alice, room, aliceApp, bobApp } = await twoInOneRoom();
    const tag = uniqueName('e');
    await aliceApp.send(`first draft ${tag}`);
    await bobApp.waitForMessage(`first draft ${tag}`);
    const mine = aliceApp.messages.filter({ hasText: `first draft ${tag}` });
    await mine.getByRole('button', { name: 'Edit', exact: true }).click();
    // While editing, the article shows the editor instead of its text: find the (only) editor in the log.
    const editor = aliceApp.log.getByRole('textbox', { name: 'Edit', exact: true });
    await editor.fill(`final text ${tag}`);
    await editor.press('Enter');
    await bobApp.waitForMessage(`final text ${tag}`);
    await waitForTextIn(bobApp.messages.filter({ hasText: `final text ${tag}` }), /\(edited\)/);
    assert.equal(await bobApp.messages.filter({ hasText: `final text ${tag}` }).getByRole('button', { name: 'Edit', exact: true }).count(), 0);
    assert.equal(await bobApp.messages.filter({ hasText: `final text ${tag}` }).getByRole('button', { name: 'Delete', exact: true }).count(), 0);

    await aliceApp.messages.filter({ hasText: `final text ${tag}` }).getByRole('button', { name: 'Delete', exact: true }).click();
    for (const app of [aliceApp, bobApp]) {
      await app.messages.filter({ hasText: 'This message was deleted.' }).waitFor({ timeout: LIVE_MS });
      assert.equal(await app.messages.filter({ hasText: tag }).count(), 0, 'the text is gone');
    }
    assert.ok(!(await storedBodies(alice, room.id)).some((body) => body.includes(tag)), 'deleted on the server');
    aliceApp.assertStayedHomeAndClean();
    bobApp.assertStayedHomeAndClean();
  });

  it('reply: a reply quotes the message it answers, on both sides, also when that message is older than the loaded page or deleted', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { alice, room, aliceApp, bobApp } = await twoInOneRoom();
    const tag = uniqueName('r');
    await aliceApp.send(`lunch at noon? ${tag}`);
    await bobApp.waitForMessage(`lunch at noon? ${tag}`);
    await bobApp.messages.filter({ hasText: `lunch at noon? ${tag}` }).getByRole('button', { name: 'Reply', exact: true }).click();
    const composing = bobApp.page.getByRole('region', { name: new RegExp(`^#`) });
    await waitForTextIn(composing, new RegExp(`Replying to ${alice.username}`));
    await bobApp.send(`yes please ${tag}`, 'enter');
    for (const app of [aliceApp, bobApp]) {
      const reply = app.messages.filter({ hasText: `yes please ${tag}` });
      await reply.waitFor({ timeout: LIVE_MS });
      await waitForTextIn(reply.getByRole('blockquote'), new RegExp(`${alice.username} lunch at noon\\? ${tag}`));
    }
    assert.doesNotMatch(await composing.innerText(), /Replying to/, 'the reply state clears once sent');

    // A reply to a message 60 messages back: after a reload only the newest 50 are loaded, and the quote (from the
    // reply itself, not from the loaded messages) still shows who wrote what.
    const old = (await alice.http.data(SendMessageDocument, { roomId: room.id, body: `an old question ${tag}\nsecond line` })).sendMessage;
    for (let i = 1; i <= 60; i++) await alice.http.data(SendMessageDocument, { roomId: room.id, body: `filler ${i} ${tag}` });
    await bobApp.waitForMessage(`filler 60 ${tag}`);
    await bobApp.page.reload();
    await bobApp.log.waitFor();
    await bobApp.waitForMessage(`filler 60 ${tag}`);
    assert.equal(await bobApp.messages.filter({ hasText: `an old question ${tag}` }).count(), 0, 'the old message is not loaded');
    const loadOlder = bobApp.log.getByRole('button', { name: 'Load older', exact: true });
    await loadOlder.click();
    const oldOne = bobApp.messages.filter({ hasText: `an old question ${tag}` }).filter({ hasNot: bobApp.page.getByRole('blockquote') });
    await oldOne.getByRole('button', { name: 'Reply', exact: true }).click();
    await waitForTextIn(composing, new RegExp(`Replying to ${alice.username}`));
    await bobApp.send(`the late answer ${tag}`, 'enter');
    for (const app of [aliceApp, bobApp]) {
      await app.page.reload();
      await app.log.waitFor();
      const reply = app.messages.filter({ hasText: `the late answer ${tag}` });
      await reply.waitFor({ timeout: LIVE_MS });
      assert.equal(await app.messages.filter({ hasText: `an old question ${tag}` }).filter({ hasNotText: 'the late answer' }).count(), 0, 'the old message is not loaded');
      await waitForTextIn(reply.getByRole('blockquote'), new RegExp(`^\\s*${alice.username} an old question ${tag}\\s*$`));
    }

    // The quoted message deleted: the quote says so, live and after a reload.
    await alice.http.data(DeleteMessageDocument, { messageId: old.id });
    for (const app of [aliceApp, bobApp]) {
      await waitForTextIn(app.messages.filter({ hasText: `the late answer ${tag}` }).getByRole('blockquote'), /This message was deleted\./);
    }
    await bobApp.page.reload();
    await bobApp.log.waitFor();
    await waitForTextIn(bobApp.messages.filter({ hasText: `the late answer ${tag}` }).getByRole('blockquote'), new RegExp(`${alice.username} This message was deleted\\.`));
    aliceApp.assertStayedHomeAndClean();
    bobApp.assertStayedHomeAndClean();
  });

  it('reactions: a reaction shows with its count on both sides, pressed for the reactor, and can be taken back', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { aliceApp, bobApp } = await twoInOneRoom();
    const tag = uniqueName('x');
    await aliceApp.send(`shipped it ${tag}`);
    await bobApp.waitForMessage(`shipped it ${tag}`);
    const inBob = bobApp.messages.filter({ hasText: `shipped it ${tag}` });
    const inAlice = aliceApp.messages.filter({ hasText: `shipped it ${tag}` });
    await inBob.getByRole('button', { name: 'React with 🎉', exact: true }).click();
    await inBob.getByRole('button', { name: '🎉 1', exact: true, pressed: true }).waitFor({ timeout: LIVE_MS });
    await inAlice.getByRole('button', { name: '🎉 1', exact: true, pressed: false }).waitFor({ timeout: LIVE_MS });
    await inAlice.getByRole('button', { name: 'React with 🎉', exact: true }).click();
    await inAlice.getByRole('button', { name: '🎉 2', exact: true, pressed: true }).waitFor({ timeout: LIVE_MS });
    await inBob.getByRole('button', { name: '🎉 2', exact: true, pressed: true }).waitFor({ timeout: LIVE_MS });

    await inBob.getByRole('button', { name: '🎉 2', exact: true }).click();
    await inBob.getByRole('button', { name: '🎉 1', exact: true, pressed: false }).waitFor({ timeout: LIVE_MS });
    await inAlice.getByRole('button', { name: '🎉 1', exact: true, pressed: true }).waitFor({ timeout: LIVE_MS });
    aliceApp.assertStayedHomeAndClean();
    bobApp.assertStayedHomeAndClean();
  });

  it('search: results show the match highlighted (no « » left) and open their room at the match, also when it is older than the newest 50', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [alice] = await users('alice');
    const [room, other] = [await createRoom(alice), await createRoom(alice)];
    const word = `zebra${uniqueName('w').replace(/\W/g, '')}`;
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: `the ${word} crossed the road` });
    // The match is older than the newest 50: the room opens at it, not at the newest.
    for (let i = 1; i <= 60; i++) await alice.http.data(SendMessageDocument, { roomId: room.id, body: `later ${String(i).padStart(2, '0')}` });
    const app = await signedIn(alice);
    await app.openRoom(other.name);

    await app.page.getByRole('button', { name: 'Search', exact: true }).click();
    const panel = app.page.getByRole('region', { name: 'Search', exact: true });
    const result = panel.getByRole('button', { name: new RegExp(word) });
    const input = panel.getByLabel('Search text', { exact: true });
    const answered = async () => (await result.count()) > 0 || /No results/.test(await panel.innerText());
    await eventually(
      async () => {
        // The indexer runs shortly after a send: clear and search again until the message is found.
        await input.fill(word);
        await eventually(answered, 'the search answers');
        if ((await result.count()) === 1) return true;
        await input.fill('');
        await eventually(async () => !(await answered()), 'the search is cleared');
        return false;
      },
      'the message is found',
      { timeoutMs: 30_000 },
    );
    assert.match(await result.ariaSnapshot(), new RegExp(`^\\s*- mark: ${word}$`, 'm'), 'the match is marked');
    assert.doesNotMatch(await result.innerText(), /[«»]/, 'no raw markers');
    await result.click();
    await app.page.getByRole('heading', { name: `#${room.name}`, exact: true }).waitFor();
    await app.waitForMessage(`the ${word} crossed the road`);
    const match = app.messages.filter({ hasText: `the ${word} crossed the road` });
    await eventually(async () => {
      const [box, logBox] = [await match.boundingBox(), await app.log.boundingBox()];
      return !!box && !!logBox && box.y >= logBox.y && box.y + box.height <= logBox.y + logBox.height;
    }, 'the match is scrolled into view inside the log');
    // Scrolling down pages the newer messages in, up to the newest.
    await app.log.hover();
    await eventually(async () => {
      await app.page.mouse.wheel(0, 4_000);
      return (await app.messages.filter({ hasText: 'later 60' }).count()) === 1;
    }, 'scrolling down reaches the newest message');
    await app.page.getByRole('button', { name: 'Load newer', exact: true }).waitFor({ state: 'detached' });
    app.assertStayedHomeAndClean();
  });

  it('Simplified Chinese: switching the language translates the page, keeps the contract’s names, and survives a reload', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { bob, room, aliceApp, bobApp } = await twoInOneRoom();
    await bobApp.page.getByRole('combobox', { name: 'Language', exact: true }).selectOption({ label: '简体中文' });
    await bobApp.page.getByRole('combobox', { name: '语言', exact: true }).waitFor();
    await bobApp.page.getByRole('button', { name: '浏览聊天室', exact: true }).waitFor();
    await waitForTextIn(bobApp.log, /这是聊天室的开始。/);
    await bobApp.page.getByRole('heading', { name: '聊天室', exact: true }).waitFor();
    await waitForTextIn(bobApp.status, /已连接/);
    // The contract's names do not change with the language.
    for (const name of ['Send', 'New room', 'Sign out'] as const) await bobApp.button(name).waitFor();
    await bobApp.messageInput.waitFor();
    await bobApp.rooms.waitFor();

    await aliceApp.send(`@${bob.username} 你好`);
    await bobApp.waitForMessage('你好');
    await bobApp.send('收到');
    await aliceApp.waitForMessage('收到');
    await waitForTextIn(bobApp.messages.filter({ hasText: '收到' }), /回复/);
    const greeting = bobApp.messages.filter({ hasText: '你好' });
    await greeting.getByRole('button', { name: '回应 👍', exact: true }).click();
    await greeting.getByRole('list', { name: '回应', exact: true }).getByRole('button', { name: '👍 1', exact: true, pressed: true }).waitFor();

    await bobApp.page.reload();
    await bobApp.rooms.waitFor();
    await bobApp.page.getByRole('combobox', { name: '语言', exact: true }).waitFor();
    await bobApp.openRoom(room.name);
    await bobApp.waitForMessage('收到');
    aliceApp.assertStayedHomeAndClean();
    bobApp.assertStayedHomeAndClean();
  });

  it('badges: a room entry tells its counts in words, with English plurals ("1 mention", "2 mentions") and none in Chinese', { timeout: TEST_TIMEOUT_MS }, async () => {
    const [alice, bob] = await users('alice', 'bob');
    const [room, elsewhere] = [await roomWithMembers(alice, [bob]), await roomWithMembers(alice, [bob])];
    const bobApp = await signedIn(bob);
    await bobApp.openRoom(elsewhere.name);
    const entry = bobApp.roomEntry(room.name);
    const description = async () => (await entry.getAttribute('aria-description')) ?? '';
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: `@${bob.username} one` });
    await eventually(async () => (await description()) === '1 unread, 1 mention', 'the entry says "1 unread, 1 mention"', { detail: description });
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: `@${bob.username} two` });
    await eventually(async () => (await description()) === '2 unread, 2 mentions', 'the entry says "2 unread, 2 mentions"', { detail: description });
    await bobApp.page.getByRole('combobox', { name: 'Language', exact: true }).selectOption({ label: '简体中文' });
    await eventually(async () => /^2 条未读，2 条提及$/.test(await description()), 'the entry says it in Chinese', { detail: description });
    bobApp.assertStayedHomeAndClean();
  });
});

/** Waits until the element `locator` matches (the first) shows text matching `pattern` (or, with `shows` false, no longer does). */
async function waitForTextIn(locator: Locator, pattern: RegExp, timeoutMs = LIVE_MS, shows = true): Promise<void> {
  const text = async () => (await locator.first().innerText().catch(() => '')).replace(/\s+/g, ' ');
  await eventually(async () => pattern.test(await text()) === shows, `it ${shows ? 'shows' : 'no longer shows'} ${pattern}`, {
    timeoutMs,
    detail: async () => `it shows "${await locator.first().innerText().catch(() => '(nothing)')}"`,
  });
}
