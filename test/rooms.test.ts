import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateRoomDocument,
  InviteToRoomDocument,
  JoinRoomDocument,
  LeaveRoomDocument,
  MessagesDocument,
  RoomDocument,
  RoomInvitationsDocument,
  RoomsDocument,
  SendMessageDocument,
} from './__generated__/graphql.js';
import { createRoom, signUp, type TestUser } from './helpers/fixtures.js';
import { HttpClient, errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('rooms', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  before(async () => {
    server = await startTestServer();
    alice = await signUp(server);
    bob = await signUp(server);
  });
  after(() => server.stop());

  it('creates a room with a trimmed name, owned by its creator, who is its first member', async () => {
    const room = (await alice.http.data(CreateRoomDocument, { name: '  general  ' })).createRoom;
    assert.deepEqual({ name: room.name, kind: room.kind, lastSeq: room.lastSeq }, { name: 'general', kind: 'PUBLIC', lastSeq: 0 });
    const [membership] = await server.sql('SELECT role FROM room_memberships WHERE room_id = $1 AND user_id = $2', [room.id, alice.id]);
    assert.deepEqual(membership, { role: 'OWNER' });
    assert.ok((await alice.http.data(RoomsDocument, {})).rooms.some((r) => r.id === room.id));
  });

  for (const [label, name] of [
    ['an empty name', ''],
    ['a name of only spaces', '   '],
    ['a name of 101 characters', 'n'.repeat(101)],
  ] as const) {
    it(`rejects ${label} with BAD_USER_INPUT`, async () => {
      const response = await alice.http.request(CreateRoomDocument, { name });
      assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
      assert.match(response.errors?.[0]?.message ?? '', /1 to 100 characters/);
    });
  }

  it('accepts a 100-character name, counting characters rather than bytes', async () => {
    const name = 'é'.repeat(100);
    assert.equal((await alice.http.data(CreateRoomDocument, { name })).createRoom.name, name);
  });

  it('refuses DIRECT rooms for now with BAD_USER_INPUT', async () => {
    const response = await alice.http.request(CreateRoomDocument, { name: 'dm', kind: 'DIRECT' });
    assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
  });

  it('lets anyone signed in see and join a public room; joining twice is harmless', async () => {
    const room = await createRoom(alice);
    assert.equal((await bob.http.data(RoomDocument, { id: room.id })).room?.id, room.id);
    assert.ok(!(await bob.http.data(RoomsDocument, {})).rooms.some((r) => r.id === room.id));
    assert.equal((await bob.http.data(JoinRoomDocument, { roomId: room.id })).joinRoom.id, room.id);
    assert.equal((await bob.http.data(JoinRoomDocument, { roomId: room.id })).joinRoom.id, room.id);
    assert.ok((await bob.http.data(RoomsDocument, {})).rooms.some((r) => r.id === room.id));
    const rows = await server.sql('SELECT role FROM room_memberships WHERE room_id = $1 AND user_id = $2', [room.id, bob.id]);
    assert.deepEqual(rows, [{ role: 'MEMBER' }]);
  });

  it('keeps a private room invisible to non-members exactly like a missing room, until an invitation', async () => {
    const room = await createRoom(alice, 'PRIVATE');
    const missing = randomUUID();
    for (const id of [room.id, missing]) {
      assert.equal((await bob.http.data(RoomDocument, { id })).room, null);
      for (const response of [
        await bob.http.request(JoinRoomDocument, { roomId: id }),
        await bob.http.request(LeaveRoomDocument, { roomId: id }),
        await bob.http.request(SendMessageDocument, { roomId: id, body: 'hi' }),
        await bob.http.request(MessagesDocument, { roomId: id }),
        await bob.http.request(InviteToRoomDocument, { roomId: id, userId: alice.id }),
      ]) {
        assert.deepEqual(errorCodes(response), ['NOT_FOUND']);
        assert.equal(response.errors?.[0]?.message, 'Room not found');
      }
    }

    await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: bob.id });
    assert.equal((await bob.http.data(RoomDocument, { id: room.id })).room?.name, room.name);
    assert.deepEqual((await bob.http.data(RoomInvitationsDocument, {})).roomInvitations.map((r) => r.id), [room.id]);
    // Invited is not joined: history and sending still need membership.
    assert.deepEqual(errorCodes(await bob.http.request(SendMessageDocument, { roomId: room.id, body: 'hi' })), ['FORBIDDEN']);

    await bob.http.data(JoinRoomDocument, { roomId: room.id });
    assert.ok((await bob.http.data(RoomsDocument, {})).rooms.some((r) => r.id === room.id));
    assert.deepEqual((await bob.http.data(RoomInvitationsDocument, {})).roomInvitations, []);
    // The room's log so far: 1 bob invited, 2 bob joined; the message takes seq 3.
    assert.equal((await bob.http.data(SendMessageDocument, { roomId: room.id, body: 'hi' })).sendMessage.seq, 3);
  });

  it('treats a malformed room id as a missing room', async () => {
    assert.equal((await bob.http.data(RoomDocument, { id: 'not-a-uuid' })).room, null);
    assert.deepEqual(errorCodes(await bob.http.request(JoinRoomDocument, { roomId: 'not-a-uuid' })), ['NOT_FOUND']);
  });

  it('lets only members invite, and reports an unknown invitee as NOT_FOUND', async () => {
    const room = await createRoom(alice);
    const carol = await signUp(server);
    assert.deepEqual(errorCodes(await bob.http.request(InviteToRoomDocument, { roomId: room.id, userId: carol.id })), ['FORBIDDEN']);
    const unknown = await alice.http.request(InviteToRoomDocument, { roomId: room.id, userId: randomUUID() });
    assert.deepEqual(errorCodes(unknown), ['NOT_FOUND']);
    assert.equal(unknown.errors?.[0]?.message, 'User not found');
    // Inviting twice, or inviting a member, changes nothing.
    await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: carol.id });
    await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: carol.id });
    await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: alice.id });
    const rows = await server.sql('SELECT user_id FROM room_invitations WHERE room_id = $1', [room.id]);
    assert.deepEqual(rows, [{ user_id: carol.id }]);
  });

  it('ends a membership on leave: the room leaves `rooms`, sending is refused, and leaving again returns false', async () => {
    const room = await createRoom(alice);
    await bob.http.data(JoinRoomDocument, { roomId: room.id });
    assert.equal((await bob.http.data(LeaveRoomDocument, { roomId: room.id })).leaveRoom, true);
    assert.ok(!(await bob.http.data(RoomsDocument, {})).rooms.some((r) => r.id === room.id));
    assert.deepEqual(errorCodes(await bob.http.request(SendMessageDocument, { roomId: room.id, body: 'x' })), ['FORBIDDEN']);
    assert.equal((await bob.http.data(LeaveRoomDocument, { roomId: room.id })).leaveRoom, false);
  });

  it('makes a private room invisible again after its member leaves', async () => {
    const room = await createRoom(alice, 'PRIVATE');
    await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: bob.id });
    await bob.http.data(JoinRoomDocument, { roomId: room.id });
    await bob.http.data(LeaveRoomDocument, { roomId: room.id });
    assert.equal((await bob.http.data(RoomDocument, { id: room.id })).room, null);
    assert.deepEqual(errorCodes(await bob.http.request(JoinRoomDocument, { roomId: room.id })), ['NOT_FOUND']);
  });

  it('requires a user for every room operation', async () => {
    const room = await createRoom(alice);
    const anonymous = new HttpClient(server.url);
    for (const response of [
      await anonymous.request(RoomsDocument, {}),
      await anonymous.request(RoomDocument, { id: room.id }),
      await anonymous.request(CreateRoomDocument, { name: 'x' }),
      await anonymous.request(JoinRoomDocument, { roomId: room.id }),
      await anonymous.request(LeaveRoomDocument, { roomId: room.id }),
      await anonymous.request(InviteToRoomDocument, { roomId: room.id, userId: bob.id }),
      await anonymous.request(RoomInvitationsDocument, {}),
    ]) {
      assert.deepEqual(errorCodes(response), ['UNAUTHENTICATED']);
    }
  });
});
