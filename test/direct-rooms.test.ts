import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AddReactionDocument,
  CreateRoomDocument,
  DeleteAccountDocument,
  EditMessageDocument,
  HideRoomDocument,
  InviteToRoomDocument,
  JoinRoomDocument,
  LeaveRoomDocument,
  MarkReadDocument,
  MessagesDocument,
  OpenDirectRoomDocument,
  RemoveMemberDocument,
  RenameRoomDocument,
  RoomPeopleDocument,
  RoomsIncludingHiddenDocument,
  SendMessageDocument,
  SetTypingDocument,
} from './__generated__/graphql.js';
import { createRoom, PASSWORD, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { RawGraphQLWs } from './helpers/raw-graphql-ws.js';
import { followRoom } from './helpers/room-events.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('direct rooms', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  before(async () => {
    server = await startTestServer();
    [alice, bob, carol] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
  });
  after(() => server.stop());

  it('opens one DIRECT room per pair, whoever opens it; its name and peer are the other participant', async () => {
    const fromAlice = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    const again = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    const fromBob = (await bob.http.data(OpenDirectRoomDocument, { userId: alice.id })).openDirectRoom;
    assert.equal(again.id, fromAlice.id);
    assert.equal(fromBob.id, fromAlice.id);
    assert.deepEqual(
      { kind: fromAlice.kind, memberCount: fromAlice.memberCount, isMember: fromAlice.isMember, name: fromAlice.name, peer: fromAlice.peer },
      { kind: 'DIRECT', memberCount: 2, isMember: true, name: bob.username, peer: { id: bob.id, username: bob.username } },
    );
    assert.deepEqual({ name: fromBob.name, peer: fromBob.peer }, { name: alice.username, peer: { id: alice.id, username: alice.username } });
    const people = (await bob.http.data(RoomPeopleDocument, { id: fromAlice.id })).room;
    assert.deepEqual(people?.members.edges.map((e) => [e.node.user.id, e.node.role]).sort(), [[alice.id, 'MEMBER'], [bob.id, 'MEMBER']].sort());
  });

  it('creates exactly one room when both users open it at once, many times over', async () => {
    const [dave, erin] = await Promise.all([signUp(server), signUp(server)]);
    const opened = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? dave : erin).http.data(OpenDirectRoomDocument, { userId: (i % 2 ? erin : dave).id })),
    );
    assert.equal(new Set(opened.map((o) => o.openDirectRoom.id)).size, 1);
    const [row] = await server.sql(
      `SELECT count(*)::int AS rooms FROM rooms WHERE kind = 'DIRECT' AND $1::uuid IN (direct_user_low_id, direct_user_high_id) AND $2::uuid IN (direct_user_low_id, direct_user_high_id)`,
      [dave.id, erin.id],
    );
    assert.deepEqual(row, { rooms: 1 });
    const [members] = await server.sql('SELECT count(*)::int AS n FROM room_memberships WHERE room_id = $1', [opened[0]!.openDirectRoom.id]);
    assert.deepEqual(members, { n: 2 });
  });

  it('opens a note-to-self room with the viewer’s own id', async () => {
    const note = (await carol.http.data(OpenDirectRoomDocument, { userId: carol.id })).openDirectRoom;
    assert.deepEqual({ kind: note.kind, memberCount: note.memberCount, peer: note.peer, name: note.name }, { kind: 'DIRECT', memberCount: 1, peer: { id: carol.id, username: carol.username }, name: carol.username });
    await carol.http.data(SendMessageDocument, { roomId: note.id, body: 'remember the milk' });
    assert.equal((await carol.http.data(OpenDirectRoomDocument, { userId: carol.id })).openDirectRoom.id, note.id);
  });

  it('answers NOT_FOUND for an unknown or malformed user id', async () => {
    for (const userId of [randomUUID(), 'nope']) {
      assert.deepEqual(errorCodes(await alice.http.request(OpenDirectRoomDocument, { userId })), ['NOT_FOUND']);
    }
  });

  it('refuses creating, joining, inviting to, leaving, renaming and removing members of a DIRECT room', async () => {
    const dm = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    assert.deepEqual(errorCodes(await alice.http.request(CreateRoomDocument, { name: 'dm', kind: 'DIRECT' })), ['BAD_USER_INPUT']);
    assert.deepEqual(errorCodes(await carol.http.request(JoinRoomDocument, { roomId: dm.id })), ['NOT_FOUND'], 'invisible to others');
    assert.deepEqual(errorCodes(await alice.http.request(InviteToRoomDocument, { roomId: dm.id, userId: carol.id })), ['BAD_USER_INPUT']);
    assert.deepEqual(errorCodes(await alice.http.request(LeaveRoomDocument, { roomId: dm.id })), ['BAD_USER_INPUT']);
    assert.deepEqual(errorCodes(await alice.http.request(RenameRoomDocument, { roomId: dm.id, name: 'ours' })), ['BAD_USER_INPUT']);
    assert.deepEqual(errorCodes(await alice.http.request(RemoveMemberDocument, { roomId: dm.id, userId: bob.id })), ['BAD_USER_INPUT']);
    assert.equal((await alice.http.data(JoinRoomDocument, { roomId: dm.id })).joinRoom.id, dm.id, 'a participant joining is harmless');
    // Nothing of it is visible to a third user.
    assert.equal((await carol.http.data(RoomPeopleDocument, { id: dm.id })).room, null);
    assert.deepEqual(errorCodes(await carol.http.request(MessagesDocument, { roomId: dm.id })), ['NOT_FOUND']);
    assert.deepEqual(errorCodes(await carol.http.request(SendMessageDocument, { roomId: dm.id, body: 'hi' })), ['NOT_FOUND']);
    assert.deepEqual(errorCodes(await carol.http.request(HideRoomDocument, { roomId: dm.id })), ['NOT_FOUND']);
    const stranger = followRoom(server.wsUrl, carol, dm.id);
    assert.deepEqual((await stranger.sub.results.take()).errors?.map((e) => e.extensions?.['code']), ['NOT_FOUND']);
    await stranger.ws.dispose();
  });

  it('keeps the room stream’s guarantees: every event once, in seq order, live and on resume', async () => {
    const [dave, erin] = await Promise.all([signUp(server), signUp(server)]);
    const dm = (await dave.http.data(OpenDirectRoomDocument, { userId: erin.id })).openDirectRoom;
    const follower = followRoom(server.wsUrl, erin, dm.id, dm.cursor);
    const first = (await dave.http.data(SendMessageDocument, { roomId: dm.id, body: 'hello' })).sendMessage;
    const reply = (await erin.http.data(SendMessageDocument, { roomId: dm.id, body: 'hi!' })).sendMessage;
    await erin.http.data(AddReactionDocument, { messageId: first.id, emoji: '👋' });
    await dave.http.data(EditMessageDocument, { messageId: first.id, body: 'hello there' });
    await dave.http.data(SetTypingDocument, { roomId: dm.id, isTyping: true });
    await dave.http.data(MarkReadDocument, { roomId: dm.id, seq: reply.seq });
    const live = [];
    for (let i = 0; i < 6; i++) live.push(await follower.next());
    assert.deepEqual(live.map((e) => [e.__typename, e.seq ?? null]), [
      ['MessageAdded', 1],
      ['MessageAdded', 2],
      ['ReactionChanged', 3],
      ['MessageEdited', 4],
      ['TypingChanged', null],
      ['ReadReceipt', null],
    ]);
    await follower.ws.dispose();
    // Resuming after the first message replays the rest of the log, then continues live.
    const resumed = followRoom(server.wsUrl, dave, dm.id, first.cursor);
    const replayed = [await resumed.next(), await resumed.next(), await resumed.next()];
    assert.deepEqual(replayed.map((e) => e.seq), [2, 3, 4]);
    await erin.http.data(SendMessageDocument, { roomId: dm.id, body: 'still here' });
    assert.equal((await resumed.next()).seq, 5);
    await resumed.ws.dispose();
    const history = (await erin.http.data(MessagesDocument, { roomId: dm.id })).messages.edges.map((e) => e.node.body);
    assert.deepEqual(history, ['hello there', 'hi!', 'still here']);
  });

  it('renders a DM’s name and peer for each participant on the grouped fan-out', async () => {
    const [dave, erin] = await Promise.all([signUp(server), signUp(server)]);
    const dm = (await dave.http.data(OpenDirectRoomDocument, { userId: erin.id })).openDirectRoom;
    const query = 'subscription ($roomId: ID!, $after: String) { messageAdded(roomId: $roomId, after: $after) { body room { name peer { id } } } }';
    const streams = [dave, erin, dave].map((user) => {
      const ws = new RawGraphQLWs(server.wsUrl);
      return { user, ws, ready: ws.init({ authorization: `Bearer ${user.token}` }) };
    });
    for (const { ws, ready } of streams) {
      await ready;
      ws.subscribe('dm', query, { roomId: dm.id, after: dm.cursor });
    }
    await erin.http.data(SendMessageDocument, { roomId: dm.id, body: 'ping' });
    await erin.http.data(SendMessageDocument, { roomId: dm.id, body: 'pong' });
    for (const { user, ws } of streams) {
      const peer = user === dave ? erin : dave;
      for (const body of ['ping', 'pong']) {
        const frame = JSON.parse(await ws.queue('dm').take(5000, `${body} for ${user.username}`)) as { payload: { data: { messageAdded: unknown } } };
        assert.deepEqual(frame.payload.data.messageAdded, { body, room: { name: peer.username, peer: { id: peer.id } } }, user.username);
      }
      ws.close();
    }
  });

  it('keeps a DM readable after its peer deletes the account: the peer is the placeholder, and sends are refused', async () => {
    const [dave, erin] = await Promise.all([signUp(server), signUp(server)]);
    const dm = (await dave.http.data(OpenDirectRoomDocument, { userId: erin.id })).openDirectRoom;
    await erin.http.data(SendMessageDocument, { roomId: dm.id, body: 'bye' });
    await erin.http.data(DeleteAccountDocument, { password: PASSWORD });
    const seen = (await dave.http.data(RoomPeopleDocument, { id: dm.id })).room;
    assert.deepEqual({ name: seen?.name, peer: seen?.peer, memberCount: seen?.memberCount }, { name: 'deleted user', peer: { id: erin.id, username: 'deleted user' }, memberCount: 1 });
    assert.deepEqual((await dave.http.data(MessagesDocument, { roomId: dm.id })).messages.edges.map((e) => [e.node.body, e.node.author.username]), [['bye', 'deleted user']]);
    assert.deepEqual(errorCodes(await dave.http.request(SendMessageDocument, { roomId: dm.id, body: 'hello?' })), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(await dave.http.request(OpenDirectRoomDocument, { userId: erin.id })), ['NOT_FOUND'], 'a deleted account cannot be messaged anew');
  });

  it('hides a DIRECT room from rooms until its next message; opening it shows it again', async () => {
    const [dave, erin] = await Promise.all([signUp(server), signUp(server)]);
    const dm = (await dave.http.data(OpenDirectRoomDocument, { userId: erin.id })).openDirectRoom;
    const listed = async (user: TestUser, includeHidden = false) => (await user.http.data(RoomsIncludingHiddenDocument, { includeHidden })).rooms.some((r) => r.id === dm.id);
    assert.equal(await listed(dave), true);
    assert.equal(await listed(erin), false, 'not in the other participant’s list before its first message');
    await dave.http.data(SendMessageDocument, { roomId: dm.id, body: 'hi erin' });
    assert.equal(await listed(erin), true);
    assert.equal((await dave.http.data(HideRoomDocument, { roomId: dm.id })).hideRoom, true);
    assert.equal((await dave.http.data(HideRoomDocument, { roomId: dm.id })).hideRoom, false, 'hidden already');
    assert.equal(await listed(dave), false);
    assert.equal(await listed(dave, true), true);
    assert.equal(await listed(erin), true, 'hidden for the one who hid it only');
    await erin.http.data(SendMessageDocument, { roomId: dm.id, body: 'you there?' });
    assert.equal(await listed(dave), true, 'a new message shows it again');
    await dave.http.data(HideRoomDocument, { roomId: dm.id });
    await dave.http.data(OpenDirectRoomDocument, { userId: erin.id });
    assert.equal(await listed(dave), true, 'opening it shows it again');
    const room = await createRoom(dave);
    assert.deepEqual(errorCodes(await dave.http.request(HideRoomDocument, { roomId: room.id })), ['BAD_USER_INPUT'], 'other rooms are left, not hidden');
  });
});
