import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageDocument,
  MarkReadDocument,
  ReadStateDocument,
  SendMessageDocument,
  SetTypingDocument,
  RoomsDocument,
} from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { ManualClock } from './helpers/manual-clock.js';
import { followRoom, waitUntilAllLive, type EventFollower } from './helpers/room-events.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import type { TestWsClient } from './helpers/ws-client.js';

describe('typing indicators and read state', () => {
  const clock = new ManualClock();
  let server: TestServer;
  const sockets: TestWsClient[] = [];

  before(async () => {
    server = await startTestServer({}, { clock });
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server.stop();
  });

  /**
   * A room of its own for each test, with alice and bob following it from a point where both have read every
   * event: no test sees what another left behind. Typing and receipt state is per user and room, so the shared
   * clock carries nothing over either.
   */
  async function freshRoom() {
    const [alice, bob] = [await signUp(server), await signUp(server)];
    const roomId = (await roomWithMembers(alice, [bob])).id;
    const bobs = followRoom(server.wsUrl, bob, roomId);
    const alices = followRoom(server.wsUrl, alice, roomId);
    sockets.push(bobs.ws, alices.ws);
    await waitUntilAllLive([bobs, alices], alice, roomId);
    const typing = (user: TestUser, isTyping: boolean) => user.http.data(SetTypingDocument, { roomId, isTyping });
    /** A message from bob: when it is the next event, nothing else was delivered before it. */
    const marker = async (label: string) => (await bob.http.data(SendMessageDocument, { roomId, body: label })).sendMessage.seq;
    return { alice, bob, roomId, bobs, alices, typing, marker };
  }

  const expectNext = async (follower: EventFollower, expected: string | { isTyping: boolean; userId: string }) => {
    const event = await follower.next();
    if (typeof expected === 'string') {
      assert.ok(event.__typename === 'MessageAdded' && event.message.body === expected, `expected message ${expected}, got ${JSON.stringify(event)}`);
    } else {
      assert.ok(event.__typename === 'TypingChanged', `expected TypingChanged, got ${JSON.stringify(event)}`);
      assert.deepEqual({ isTyping: event.isTyping, userId: event.user?.id }, expected);
    }
  };

  it('tells the other members, not the typist, and expires 6 s after the last refresh', async () => {
    const { alice, bobs, alices, typing, marker } = await freshRoom();
    await typing(alice, true);
    await expectNext(bobs, { isTyping: true, userId: alice.id });
    await marker('m1');
    await expectNext(alices, 'm1'); // alice is not told about her own typing
    await expectNext(bobs, 'm1');

    clock.advance(4000);
    await typing(alice, true); // a refresh: no event, and the expiry moves to 6 s from now
    clock.advance(5999);
    await marker('m2');
    await expectNext(bobs, 'm2');
    clock.advance(1);
    await expectNext(bobs, { isTyping: false, userId: alice.id });
    await marker('m3');
    await expectNext(bobs, 'm3');
    await expectNext(alices, 'm2');
    await expectNext(alices, 'm3');
  });

  it('sends at most one event per user per room per 2 s, with the latest state at the end of the window', async () => {
    const { alice, bobs, alices, typing, marker } = await freshRoom();
    await typing(alice, true);
    await expectNext(bobs, { isTyping: true, userId: alice.id });
    clock.advance(500);
    await typing(alice, false); // inside the window: held back
    await marker('held');
    await expectNext(bobs, 'held');
    clock.advance(1499);
    await marker('still held');
    await expectNext(bobs, 'still held');
    clock.advance(1); // the window ends: the latest state goes out
    await expectNext(bobs, { isTyping: false, userId: alice.id });

    clock.advance(2000);
    await typing(alice, true);
    await expectNext(bobs, { isTyping: true, userId: alice.id });
    await typing(alice, false);
    await typing(alice, true); // flapping inside the window ends where it began: nothing to send
    clock.advance(2000);
    await marker('no flap');
    await expectNext(bobs, 'no flap');
    await typing(alice, false);
    await expectNext(bobs, { isTyping: false, userId: alice.id });
    for (const label of ['held', 'still held', 'no flap']) await expectNext(alices, label); // none of her own typing
  });

  it('keeps a read position that never moves backwards, counts unread messages by others, and sends receipts', async () => {
    const { alice, bob, roomId, alices, marker } = await freshRoom();
    const room = (await bob.http.data(ReadStateDocument, { id: roomId })).room!;
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push((await alice.http.data(SendMessageDocument, { roomId, body: `unread ${i}` })).sendMessage);
    const bobState = async () => (await bob.http.data(ReadStateDocument, { id: roomId })).room!;

    const before = await bobState();
    assert.equal(before.lastReadSeq, 0);
    assert.equal(before.unreadCount, room.unreadCount + 3, 'alice’s three new messages are unread for bob');

    const marked = (await bob.http.data(MarkReadDocument, { roomId, seq: sent[0]!.seq })).markRead;
    assert.equal(marked.lastReadSeq, sent[0]!.seq);
    assert.equal(marked.unreadCount, 2);
    // Alice hears about it, right after her own three messages.
    const seen = [await alices.next(), await alices.next(), await alices.next(), await alices.next()];
    assert.deepEqual(seen.map((e) => e.__typename), ['MessageAdded', 'MessageAdded', 'MessageAdded', 'ReadReceipt']);
    const receipt = seen[3]!;
    assert.ok(receipt.__typename === 'ReadReceipt');
    assert.deepEqual([receipt.user?.id, receipt.lastReadSeq, receipt.seq], [bob.id, sent[0]!.seq, null]);

    const backwards = (await bob.http.data(MarkReadDocument, { roomId, seq: room.lastSeq - 1 })).markRead;
    assert.equal(backwards.lastReadSeq, sent[0]!.seq, 'never moves backwards');

    await bob.http.data(SendMessageDocument, { roomId, body: 'my own' });
    assert.equal((await bobState()).unreadCount, 2, 'your own messages are not unread');
    await alice.http.data(DeleteMessageDocument, { messageId: sent[1]!.id });
    assert.equal((await bobState()).unreadCount, 1, 'deleted messages are not unread');

    const all = (await bob.http.data(MarkReadDocument, { roomId, seq: (await bobState()).lastSeq })).markRead;
    assert.equal(all.unreadCount, 0);
    // Receipts are throttled like typing: this one goes out when bob's 2 s window ends.
    await marker('before the receipt');
    const beforeReceipt = [];
    for (;;) {
      const event = await alices.next();
      beforeReceipt.push(event.__typename);
      if (event.__typename === 'MessageAdded' && event.message.body === 'before the receipt') break;
    }
    assert.ok(!beforeReceipt.includes('ReadReceipt'), beforeReceipt.join());
    clock.advance(2000);
    const late = await alices.next();
    assert.ok(late.__typename === 'ReadReceipt' && late.lastReadSeq === all.lastReadSeq, JSON.stringify(late));
    const listed = (await bob.http.data(RoomsDocument, {})).rooms.find((r) => r.id === roomId);
    assert.ok(listed);

    for (const seq of [-1, (await bobState()).lastSeq + 1]) {
      const response = await bob.http.request(MarkReadDocument, { roomId, seq });
      assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
    }
  });
});
