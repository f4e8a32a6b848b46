import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddReactionDocument,
  CreateRoomDocument,
  DeleteMessageDocument,
  EditMessageDocument,
  InviteToRoomDocument,
  JoinRoomDocument,
  LeaveRoomDocument,
  MarkReadDocument,
  MessageAddedDocument,
  RemoveMemberDocument,
  RemoveReactionDocument,
  RenameRoomDocument,
  SendMessageDocument,
  SendReplyDocument,
  SetTypingDocument,
} from './__generated__/graphql.js';
import { createRoom, roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { ManualClock } from './helpers/manual-clock.js';
import { followRoom, waitUntilAllLive, type EventFollower, type RoomEventResult } from './helpers/room-events.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import type { TestWsClient } from './helpers/ws-client.js';

describe('the room event stream', () => {
  let server: TestServer;
  let alice: TestUser; // owner
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser; // never a member
  const sockets: TestWsClient[] = [];
  const follow = (user: TestUser, roomId: string, after?: string): EventFollower => {
    const follower = followRoom(server.wsUrl, user, roomId, after);
    sockets.push(follower.ws);
    return follower;
  };

  before(async () => {
    server = await startTestServer({}, { clock: new ManualClock() }); // typing timers never fire on their own here
    [alice, bob, carol, dave] = [await signUp(server), await signUp(server), await signUp(server), await signUp(server)];
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server.stop();
  });

  it('delivers every kind of event to the members, in seq order, and nothing to anyone else', async () => {
    const room = await roomWithMembers(alice, [bob, carol]);
    const other = await roomWithMembers(dave, []);
    const bobs = follow(bob, room.id);
    const carols = follow(carol, room.id);
    const daves = follow(dave, other.id); // a subscriber of another room
    await waitUntilAllLive([bobs, carols], alice, room.id);
    await waitUntilAllLive([daves], dave, other.id);

    const { sendMessage: hello } = await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'hello' });
    await bob.http.data(SendReplyDocument, { roomId: room.id, body: 'hi back', replyToId: hello.id });
    await alice.http.data(EditMessageDocument, { messageId: hello.id, body: 'hello, all' });
    await bob.http.data(AddReactionDocument, { messageId: hello.id, emoji: '👍' });
    await bob.http.data(AddReactionDocument, { messageId: hello.id, emoji: '👍' }); // already there: no event
    await bob.http.data(RemoveReactionDocument, { messageId: hello.id, emoji: '👍' });
    await alice.http.data(DeleteMessageDocument, { messageId: hello.id });
    await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: dave.id });
    await dave.http.data(JoinRoomDocument, { roomId: room.id });
    await alice.http.data(RenameRoomDocument, { roomId: room.id, name: 'renamed' });
    await dave.http.data(LeaveRoomDocument, { roomId: room.id });
    await alice.http.data(SetTypingDocument, { roomId: room.id, isTyping: true });
    const { markRead } = await alice.http.data(MarkReadDocument, { roomId: room.id, seq: hello.seq });

    const expected: [string, (e: RoomEventResult) => unknown, unknown][] = [
      ['MessageAdded', (e) => e.__typename === 'MessageAdded' && [e.message.author.id, e.message.seq === e.seq], [alice.id, true]],
      ['MessageAdded', (e) => e.__typename === 'MessageAdded' && e.message.replyTo?.id, hello.id],
      ['MessageEdited', (e) => e.__typename === 'MessageEdited' && e.message.editedAt !== null, true],
      ['ReactionChanged', (e) => e.__typename === 'ReactionChanged' && [e.emoji, e.added, e.user?.id, e.message.id], ['👍', true, bob.id, hello.id]],
      ['ReactionChanged', (e) => e.__typename === 'ReactionChanged' && [e.emoji, e.added], ['👍', false]],
      ['MessageDeleted', (e) => e.__typename === 'MessageDeleted' && [e.message.body, e.message.deletedAt !== null, e.deletedBy?.id], ['', true, alice.id]],
      ['MemberInvited', (e) => e.__typename === 'MemberInvited' && [e.user?.id, e.invitedBy?.id], [dave.id, alice.id]],
      ['MemberJoined', (e) => e.__typename === 'MemberJoined' && e.user?.id, dave.id],
      ['RoomUpdated', (e) => e.__typename === 'RoomUpdated' && [e.name, e.room.name], ['renamed', 'renamed']],
      ['MemberLeft', (e) => e.__typename === 'MemberLeft' && [e.user?.id, e.removedBy], [dave.id, null]],
      ['TypingChanged', (e) => e.__typename === 'TypingChanged' && [e.user?.id, e.isTyping, e.seq, e.cursor], [alice.id, true, null, null]],
      ['ReadReceipt', (e) => e.__typename === 'ReadReceipt' && [e.user?.id, e.lastReadSeq, e.seq], [alice.id, markRead.lastReadSeq, null]],
    ];
    for (const follower of [bobs, carols]) {
      const received: RoomEventResult[] = [];
      for (let i = 0; i < expected.length; i++) received.push(await follower.next());
      assert.deepEqual(received.map((e) => e.__typename), expected.map(([type]) => type));
      for (const [i, [, pick, value]] of expected.entries()) assert.deepEqual(pick(received[i]!), value, `event ${i}`);
      const persisted = received.filter((e) => e.seq !== null).map((e) => e.seq!);
      const log = await server.sql<{ seq: number }>('SELECT seq FROM room_events WHERE room_id = $1 AND seq >= $2 ORDER BY seq', [room.id, persisted[0]]);
      assert.deepEqual(persisted, log.map((r) => r.seq)); // once each, in order, no gaps
      for (const e of received) if (e.seq !== null) assert.ok(e.cursor);
    }

    // Dave's subscription to his own room saw none of it: the next thing it gets is his own room's message.
    await dave.http.data(SendMessageDocument, { roomId: other.id, body: 'only here' });
    const next = await daves.next();
    assert.ok(next.__typename === 'MessageAdded' && next.message.body === 'only here');
  });

  it('ends a removed member’s subscriptions at once with FORBIDDEN; they receive nothing committed after', async () => {
    const room = await roomWithMembers(alice, [bob, carol]);
    const carols = follow(carol, room.id);
    const carolsMessages = sockets[sockets.length - 1]!.subscribe(MessageAddedDocument, { roomId: room.id });
    const bobs = follow(bob, room.id);
    await waitUntilAllLive([carols, bobs], alice, room.id);

    const { sendMessage: before } = await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'before removal' });
    assert.equal((await alice.http.data(RemoveMemberDocument, { roomId: room.id, userId: carol.id })).removeMember, true);
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'after removal' });

    const got = await carols.next();
    assert.ok(got.__typename === 'MessageAdded' && got.message.id === before.id);
    const end = await carols.sub.ended;
    assert.equal(end.kind, 'error');
    assert.deepEqual(end.kind === 'error' && end.errors.map((e) => [e.extensions?.['code'], e.message]), [
      ['FORBIDDEN', 'You are no longer a member of this room'],
    ]);
    assert.equal(carols.sub.results.size, 0);
    // The messageAdded view on the same socket ends the same way, after the last message she was allowed to see.
    const messages = [];
    for (;;) {
      const result = await carolsMessages.results.take().catch(() => undefined);
      if (!result) break;
      messages.push(result.data?.messageAdded.body);
      if (result.data?.messageAdded.body === 'before removal') break;
    }
    assert.equal(messages.at(-1), 'before removal');
    assert.equal((await carolsMessages.ended).kind, 'error');

    // Bob, still a member, sees the removal and what came after.
    const seen = [await bobs.next(), await bobs.next(), await bobs.next()];
    assert.deepEqual(seen.map((e) => e.__typename), ['MessageAdded', 'MemberLeft', 'MessageAdded']);
    assert.ok(seen[1]!.__typename === 'MemberLeft' && seen[1]!.removedBy?.id === alice.id && seen[1]!.user?.id === carol.id);
    // And carol can no longer subscribe.
    const again = follow(carol, room.id);
    assert.deepEqual((await again.sub.results.take()).errors?.map((e) => e.extensions?.['code']), ['FORBIDDEN']);
  });

  it('ends a leaving member’s subscription the same way, and lets a re-joined member resume across the gap', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const bobs = follow(bob, room.id);
    await waitUntilAllLive([bobs], alice, room.id);
    const { sendMessage: last } = await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'last one bob sees live' });
    await bob.http.data(LeaveRoomDocument, { roomId: room.id });
    assert.equal((await bobs.next()).seq, last.seq);
    assert.deepEqual((await bobs.sub.ended).kind, 'error');

    await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'while bob was away' });
    await bob.http.data(JoinRoomDocument, { roomId: room.id });
    // Resuming from before he left replays his own departure as history instead of ending the new subscription.
    const resumed = follow(bob, room.id, last.cursor);
    const replay = [await resumed.next(), await resumed.next(), await resumed.next()];
    assert.deepEqual(replay.map((e) => e.__typename), ['MemberLeft', 'MessageAdded', 'MemberJoined']);
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'welcome back' });
    const live = await resumed.next();
    assert.ok(live.__typename === 'MessageAdded' && live.message.body === 'welcome back');
  });

  it('refuses roomEvents to non-members: FORBIDDEN for a public room, NOT_FOUND for a private one', async () => {
    const open = await createRoom(alice);
    const closed = (await alice.http.data(CreateRoomDocument, { name: 'closed', kind: 'PRIVATE' })).createRoom;
    for (const [roomId, code] of [[open.id, 'FORBIDDEN'], [closed.id, 'NOT_FOUND']] as const) {
      const denied = follow(dave, roomId);
      assert.deepEqual((await denied.sub.results.take()).errors?.map((e) => e.extensions?.['code']), [code]);
    }
  });
});
