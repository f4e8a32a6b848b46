import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BlockUserDocument,
  CreateRoomDocument,
  InboxEventsDocument,
  InboxRecoveryDocument,
  InviteToRoomDocument,
  JoinRoomDocument,
  LeaveRoomDocument,
  MarkReadDocument,
  OpenDirectRoomDocument,
  RemoveMemberDocument,
  RenameRoomDocument,
  SendMessageDocument,
  UnblockUserDocument,
} from './__generated__/graphql.js';
import { errorCodes } from './helpers/http-client.js';
import { createRoom, roomWithMembers, signUp, uniqueName, type TestUser } from './helpers/fixtures.js';
import { allInboxEvents, followInbox, forgedInboxCursor, inboxCursor, type InboxEventResult, type InboxFollower } from './helpers/inbox.js';
import { ManualClock } from './helpers/manual-clock.js';
import { seededRandom } from './helpers/seeded-random.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** What a test compares of an inbox event: its type, seq and the room or user it names. */
function summary(event: InboxEventResult): string {
  switch (event.__typename) {
    case 'InvitedToRoom':
      return `${event.seq} invited ${event.roomId} by ${event.invitedBy?.id ?? '-'}`;
    case 'JoinedRoom':
      return `${event.seq} joined ${event.roomId}`;
    case 'RemovedFromRoom':
      return `${event.seq} removed ${event.roomId} by ${event.removedBy?.id ?? '-'}`;
    case 'Mentioned':
      return `${event.seq} mentioned ${event.messageId}`;
    case 'RoomActivity':
      return `activity ${event.roomId}`;
    case 'InboxResyncRequired':
      return `resync ${event.lastSeq}`;
    case 'InboxLive':
      return 'live';
    default:
      return event satisfies never;
  }
}

/**
 * Invites `user` to a new room as `inviter` and returns every event `inbox` receives before that invitation: once
 * it returns, everything published before the invitation has been received.
 */
async function untilFence(inbox: InboxFollower, inviter: TestUser, user: TestUser): Promise<InboxEventResult[]> {
  const fence = await createRoom(inviter, 'PRIVATE');
  await inviter.http.data(InviteToRoomDocument, { roomId: fence.id, userId: user.id });
  const before: InboxEventResult[] = [];
  for (;;) {
    const event = await inbox.next();
    if (event.__typename === 'InvitedToRoom' && event.roomId === fence.id) return before;
    before.push(event);
  }
}

/** Sends as `sender` into `roomId` until `inbox` gets a RoomActivity (it watches a user's rooms once it has read them). */
async function untilActivity(inbox: InboxFollower, sender: TestUser, roomId: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    await sender.http.data(SendMessageDocument, { roomId, body: 'probe' });
    const event = await inbox.next(200).catch(() => undefined);
    if (event?.__typename === 'RoomActivity') return;
  }
  throw new Error('the inbox never reported activity');
}

describe('inbox', () => {
  let server: TestServer;
  const clock = new ManualClock();
  const followers: InboxFollower[] = [];
  const follow = (user: TestUser, after?: string) => {
    const follower = followInbox(server.wsUrl, user, after);
    followers.push(follower);
    return follower;
  };

  before(async () => {
    server = await startTestServer({ INBOX_ACTIVITY_THROTTLE: '1s' }, { clock });
  });
  after(async () => {
    await Promise.all(followers.map((f) => f.ws.dispose()));
    await server.stop();
  });

  it('logs invitations, joins (also DMs opened by others), departures and removals, each for its own user only', async () => {
    const [alice, bob, carol, dave] = await Promise.all([signUp(server), signUp(server), signUp(server), signUp(server)]);
    const secret = await createRoom(alice!, 'PRIVATE');
    await alice!.http.data(InviteToRoomDocument, { roomId: secret.id, userId: bob!.id });
    await bob!.http.data(JoinRoomDocument, { roomId: secret.id });
    await alice!.http.data(RemoveMemberDocument, { roomId: secret.id, userId: bob!.id });
    const open = await createRoom(alice!);
    await carol!.http.data(JoinRoomDocument, { roomId: open.id });
    await carol!.http.data(LeaveRoomDocument, { roomId: open.id });
    const dm = (await alice!.http.data(OpenDirectRoomDocument, { userId: dave!.id })).openDirectRoom;
    await alice!.http.data(OpenDirectRoomDocument, { userId: dave!.id }); // opening it again logs nothing

    assert.deepEqual((await allInboxEvents(alice!)).map(summary), [`1 joined ${secret.id}`, `2 joined ${open.id}`, `3 joined ${dm.id}`]);
    assert.deepEqual((await allInboxEvents(bob!)).map(summary), [
      `1 invited ${secret.id} by ${alice!.id}`,
      `2 joined ${secret.id}`,
      `3 removed ${secret.id} by ${alice!.id}`,
    ]);
    assert.deepEqual((await allInboxEvents(carol!)).map(summary), [`1 joined ${open.id}`, `2 removed ${open.id} by -`]);
    const davesEvents = await allInboxEvents(dave!);
    assert.deepEqual(davesEvents.map(summary), [`1 joined ${dm.id}`]);
    const opened = davesEvents[0]!;
    assert.equal(opened.__typename === 'JoinedRoom' && opened.room?.kind, 'DIRECT');
  });

  it('takes no invitation from someone the invitee blocked: NOT_FOUND, and nothing reaches their inbox', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    await bob.http.data(BlockUserDocument, { userId: alice.id });
    const room = await createRoom(alice, 'PRIVATE');
    assert.deepEqual(errorCodes(await alice.http.request(InviteToRoomDocument, { roomId: room.id, userId: bob.id })), ['NOT_FOUND']);
    assert.deepEqual(await allInboxEvents(bob), []);
    await bob.http.data(UnblockUserDocument, { userId: alice.id });
    await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: bob.id });
    assert.deepEqual((await allInboxEvents(bob)).map(summary), [`1 invited ${room.id} by ${alice.id}`]);
  });

  it('replays after a cursor, then goes live: exactly once, in order, across drops under concurrent activity', async () => {
    const reader = await signUp(server);
    const inviters = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const total = 60;
    const start = await inboxCursor(reader);
    const random = seededRandom(11);
    // Three inviters invite the reader to 20 rooms each, concurrently with the reader's drops and resumes.
    const inviting = Promise.all(
      inviters.map(async (inviter) => {
        for (let i = 0; i < total / inviters.length; i++) {
          const room = (await inviter.http.data(CreateRoomDocument, { name: uniqueName('room'), kind: 'PRIVATE' })).createRoom;
          await inviter.http.data(InviteToRoomDocument, { roomId: room.id, userId: reader.id });
        }
      }),
    );
    const received: InboxEventResult[] = [];
    let cursor = start;
    while (received.length < total) {
      const follower = follow(reader, cursor);
      const take = 1 + Math.floor(random() * 8);
      for (let i = 0; i < take && received.length < total; i++) {
        const event = await follower.nextPersisted(10_000);
        received.push(event);
        cursor = event.cursor!;
      }
      follower.ws.drop(); // abruptly, as a lost network would
    }
    await inviting;
    assert.deepEqual(
      received.map((event) => event.seq),
      Array.from({ length: total }, (_, i) => i + 1),
    );
    assert.ok(received.every((event) => event.__typename === 'InvitedToRoom'));
    // Nothing more is delivered after the last one: a fresh resume from the end sees only what comes next.
    const fresh = follow(reader, cursor);
    const room = await createRoom(reader);
    assert.equal(summary(await fresh.nextPersisted()), `${total + 1} joined ${room.id}`);
  });

  it('refuses cursors of another user, ahead of the inbox or malformed, as BAD_USER_INPUT', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    await createRoom(alice);
    const cursors = [await inboxCursor(alice), forgedInboxCursor(bob.id, 5), 'garbage'];
    for (const cursor of cursors) {
      assert.deepEqual(errorCodes(await bob.http.request(InboxEventsDocument, { first: 5, after: cursor })), ['BAD_USER_INPUT'], cursor);
      const refused = await follow(bob, cursor).sub.results.take();
      assert.deepEqual(refused.errors?.map((e) => e.extensions?.['code']), ['BAD_USER_INPUT'], cursor);
    }
  });

  it('pages the log like history: newest last, in both directions', async () => {
    const user = await signUp(server);
    const rooms = [];
    for (let i = 0; i < 5; i++) rooms.push(await createRoom(user));
    const newest = (await user.http.data(InboxEventsDocument, { last: 2 })).inboxEvents;
    assert.deepEqual(newest.edges.map((e) => e.node.seq), [4, 5]);
    assert.equal(newest.pageInfo.hasPreviousPage, true);
    const earlier = (await user.http.data(InboxEventsDocument, { last: 10, before: newest.pageInfo.startCursor! })).inboxEvents;
    assert.deepEqual(earlier.edges.map((e) => e.node.seq), [1, 2, 3]);
    assert.equal(earlier.pageInfo.hasPreviousPage, false);
    const forward = (await user.http.data(InboxEventsDocument, { first: 2, after: earlier.edges[0]!.cursor })).inboxEvents;
    assert.deepEqual(forward.edges.map((e) => e.node.seq), [2, 3]);
    assert.equal(forward.pageInfo.hasNextPage, true);
  });

  it('coalesces RoomActivity per room with the injected clock: the first at once, then the latest state once per window', async () => {
    const [alice, frank] = await Promise.all([signUp(server), signUp(server)]);
    const busy = await roomWithMembers(alice, [frank]);
    const quiet = await roomWithMembers(alice, [frank]);
    const inbox = follow(frank, await inboxCursor(frank));
    const send = async (roomId: string, body: string) => (await alice.http.data(SendMessageDocument, { roomId, body })).sendMessage;
    await untilActivity(inbox, alice, busy.id);
    clock.advance(1000); // the probes' window ends: a held activity goes out now
    await untilFence(inbox, alice, frank); // ... and is received by now
    const held = clock.now();

    // The window opened by the next message holds the rest of the burst.
    await send(busy.id, 'one');
    const opened = await inbox.next();
    assert.equal(opened.__typename === 'RoomActivity' && opened.lastMessage?.body, 'one');
    for (const body of ['two', 'three', 'four']) await send(busy.id, body);
    // Another room has its own window: its activity comes at once.
    await send(quiet.id, 'elsewhere');
    const other = await inbox.next();
    assert.equal(other.__typename === 'RoomActivity' && other.roomId, quiet.id);
    clock.advance(1000);
    const latest = await inbox.next();
    assert.ok(latest.__typename === 'RoomActivity');
    assert.equal(latest.roomId, busy.id);
    assert.equal(latest.lastMessage?.body, 'four', 'the latest state, once');
    assert.equal(latest.room?.unreadCount, latest.room!.lastSeq - 1, 'every message (all but the join event) is unread');
    assert.ok(clock.now() > held);

    // frank reads on another device: his own unread count changed, so his inbox hears of it.
    clock.advance(1000);
    await frank.http.data(MarkReadDocument, { roomId: busy.id, seq: latest.room!.lastSeq });
    const read = await inbox.next();
    assert.ok(read.__typename === 'RoomActivity');
    assert.equal(read.room?.unreadCount, 0);
    assert.deepEqual(await untilFence(inbox, alice, frank), [], 'nothing else came in between');
  });

  it('follows joins and departures: activity from a room joined later, none after leaving', async () => {
    const [alice, gina] = await Promise.all([signUp(server), signUp(server)]);
    const anchor = await roomWithMembers(alice, [gina]);
    const inbox = follow(gina, await inboxCursor(gina));
    await untilActivity(inbox, alice, anchor.id);
    clock.advance(1000);
    await untilFence(inbox, alice, gina);
    const later = await createRoom(alice);
    await gina.http.data(JoinRoomDocument, { roomId: later.id });
    assert.equal(summary(await inbox.next()), `${(await allInboxEvents(gina)).at(-1)!.seq} joined ${later.id}`);
    await alice.http.data(SendMessageDocument, { roomId: later.id, body: 'welcome' });
    const welcome = await inbox.next();
    assert.equal(welcome.__typename === 'RoomActivity' && welcome.lastMessage?.body, 'welcome');
    await gina.http.data(LeaveRoomDocument, { roomId: later.id });
    assert.equal((await inbox.next()).__typename, 'RemovedFromRoom');
    clock.advance(1000);
    await alice.http.data(SendMessageDocument, { roomId: later.id, body: 'after you left' });
    assert.deepEqual(await untilFence(inbox, alice, gina), [], 'no activity from a room gina left');
  });

  it('writes no inbox rows for room traffic, whatever the room size', async () => {
    const owner = await signUp(server);
    const members = await Promise.all(Array.from({ length: 30 }, () => signUp(server)));
    const room = await roomWithMembers(owner, members);
    const inboxes = await Promise.all(members.map(async (member) => follow(member, await inboxCursor(member))));
    const count = async () => Number((await server.sql<{ n: string }>('SELECT count(*) AS n FROM user_events'))[0]!.n);
    const before = await count();
    // Messages until every member's inbox has heard of one (each watches once it has read its rooms).
    const heard = new Set<number>();
    let sent = 0;
    for (let round = 0; round < 50 && heard.size < inboxes.length; round++) {
      clock.advance(1000);
      await owner.http.data(SendMessageDocument, { roomId: room.id, body: `hello ${sent++}` });
      for (const [index, inbox] of inboxes.entries()) {
        if (heard.has(index)) continue;
        const event = await inbox.next(heard.size === 0 ? 200 : 50).catch(() => undefined);
        if (event?.__typename === 'RoomActivity' && event.roomId === room.id) heard.add(index);
      }
    }
    assert.equal(heard.size, inboxes.length, 'every member heard of the room activity');
    assert.equal(await count(), before, `${sent} messages in a 31-member room wrote no inbox rows`);
  });

  it('recovery recipe: resume from the kept cursor, read rooms on InboxLive, and nothing is missing or doubled', async () => {
    const [alice, hana] = await Promise.all([signUp(server), signUp(server)]);
    const chat = await roomWithMembers(alice, [hana]);
    const renamed = await roomWithMembers(alice, [hana]);
    // First start: subscribe (no cursor kept yet), then read the rooms once the inbox is live.
    let inbox = follow(hana);
    assert.deepEqual(await inbox.untilLive(), [], 'nothing to replay without a cursor');
    const initial = await hana.http.data(InboxRecoveryDocument, {});
    assert.equal(initial.rooms.find((room) => room.id === chat.id)!.unreadCount, 0);
    const invitedEarly = await createRoom(alice, 'PRIVATE');
    await alice.http.data(InviteToRoomDocument, { roomId: invitedEarly.id, userId: hana.id });
    const early = await inbox.nextPersisted();
    assert.equal(summary(early), `${early.seq} invited ${invitedEarly.id} by ${alice.id}`);
    const cursor = early.cursor!; // the client keeps the cursor of the last persisted event it applied
    // The connection drops; meanwhile the rooms change and hana is invited again.
    inbox.ws.drop();
    for (let i = 0; i < 3; i++) await alice.http.data(SendMessageDocument, { roomId: chat.id, body: `while away ${i}` });
    await alice.http.data(RenameRoomDocument, { roomId: renamed.id, name: 'renamed meanwhile' });
    const invitedLater = await createRoom(alice, 'PRIVATE');
    await alice.http.data(InviteToRoomDocument, { roomId: invitedLater.id, userId: hana.id });
    // Resume from the kept cursor: the missed persisted events come first, then InboxLive; rooms read after it are
    // current, and every later change arrives as an event.
    inbox = follow(hana, cursor);
    const replayed = (await inbox.untilLive()).filter((event) => event.__typename !== 'RoomActivity');
    assert.deepEqual(replayed.map(summary), [`${early.seq! + 1} invited ${invitedLater.id} by ${alice.id}`]);
    const recovered = await hana.http.data(InboxRecoveryDocument, {});
    const byId = new Map(recovered.rooms.map((room) => [room.id, room]));
    assert.equal(byId.get(chat.id)!.unreadCount, 3);
    assert.equal(byId.get(renamed.id)!.name, 'renamed meanwhile');
    assert.equal(recovered.inboxCursor, replayed[0]!.cursor, 'the replay ended at the latest event');
    // Live from here: the next persisted event is the next thing that happens, and activity arrives.
    await hana.http.data(JoinRoomDocument, { roomId: invitedLater.id });
    assert.equal(summary(await inbox.nextPersisted()), `${replayed[0]!.seq! + 1} joined ${invitedLater.id}`);
    clock.advance(1000);
    await alice.http.data(SendMessageDocument, { roomId: chat.id, body: 'back' });
    let activity = await inbox.next();
    while (activity.__typename !== 'RoomActivity' || activity.lastMessage?.body !== 'back') activity = await inbox.next();
    assert.equal(activity.room?.unreadCount, 4);
  });

  it('shows a room or message the viewer can no longer see as null, and sends no activity after a removal', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const secret = await createRoom(alice, 'PRIVATE');
    await alice.http.data(InviteToRoomDocument, { roomId: secret.id, userId: bob.id });
    const [invited] = await allInboxEvents(bob);
    assert.ok(invited?.__typename === 'InvitedToRoom' && invited.room?.id === secret.id, 'an invitee sees the room');
    await bob.http.data(JoinRoomDocument, { roomId: secret.id });
    const inbox = follow(bob, await inboxCursor(bob));
    await untilActivity(inbox, alice, secret.id);
    // A window is open: the next message's activity is held. Then bob is removed, and a secret is written.
    await alice.http.data(SendMessageDocument, { roomId: secret.id, body: `held @${bob.username}` });
    await alice.http.data(RemoveMemberDocument, { roomId: secret.id, userId: bob.id });
    await alice.http.data(SendMessageDocument, { roomId: secret.id, body: 'SECRET after bob was removed' });
    await alice.http.data(RenameRoomDocument, { roomId: secret.id, name: 'secret name' });
    clock.advance(1000);
    const after = await untilFence(inbox, alice, bob);
    assert.deepEqual(after.map((event) => event.__typename), ['Mentioned', 'RemovedFromRoom'], 'no RoomActivity once bob was removed');
    // Replayed now, the log names the room and the message only by id.
    const log = await allInboxEvents(bob);
    const joined = log.find((event) => event.__typename === 'JoinedRoom');
    assert.ok(joined?.__typename === 'JoinedRoom' && joined.roomId === secret.id && joined.room === null);
    const mentioned = log.find((event) => event.__typename === 'Mentioned');
    assert.ok(mentioned?.__typename === 'Mentioned' && mentioned.message === null && mentioned.roomId === secret.id);
    assert.doesNotMatch(JSON.stringify(log), /SECRET|secret name/);
  });
});

describe('inbox past the replay limit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ REPLAY_LIMIT: '5' });
  });
  after(() => server.stop());

  it('sends InboxResyncRequired instead of the replay, then continues live after it', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const start = await inboxCursor(bob);
    for (let i = 0; i < 8; i++) {
      const room = await createRoom(alice, 'PRIVATE');
      await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: bob.id });
    }
    const inbox = followInbox(server.wsUrl, bob, start);
    try {
      const resync = await inbox.next();
      assert.ok(resync.__typename === 'InboxResyncRequired');
      assert.equal(resync.lastSeq, 8);
      assert.equal(resync.cursor, await inboxCursor(bob));
      const room = await createRoom(alice, 'PRIVATE');
      await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: bob.id });
      assert.equal(summary(await inbox.nextPersisted()), `9 invited ${room.id} by ${alice.id}`);
      // Within the limit, a resume replays.
      const within = followInbox(server.wsUrl, bob, forgedInboxCursor(bob.id, 6));
      assert.deepEqual([(await within.next()).seq, (await within.next()).seq, (await within.next()).seq], [7, 8, 9]);
      await within.ws.dispose();
    } finally {
      await inbox.ws.dispose();
    }
  });
});
