import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  BlockedUsersDocument,
  BlockUserDocument,
  OpenDirectRoomDocument,
  SendMessageDocument,
  UnblockUserDocument,
  UserDocument,
} from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('blocking', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  const send = (from: TestUser, roomId: string, body = 'hello') => from.http.request(SendMessageDocument, { roomId, body });

  it('hides the blocker from openDirectRoom and refuses sends to their existing DM; unblocking undoes both', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const dm = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    assert.equal((await bob.http.data(BlockUserDocument, { userId: alice.id })).blockUser, true);

    const opened = await alice.http.request(OpenDirectRoomDocument, { userId: bob.id });
    const unknown = await alice.http.request(OpenDirectRoomDocument, { userId: randomUUID() });
    assert.deepEqual(errorCodes(opened), ['NOT_FOUND']);
    assert.equal(opened.errors?.[0]?.message, unknown.errors?.[0]?.message, 'the same answer as for a user that does not exist');
    assert.deepEqual(errorCodes(await send(alice, dm.id)), ['FORBIDDEN'], 'the blocked user cannot send to the DM');
    assert.deepEqual(errorCodes(await send(alice, dm.id)), ['FORBIDDEN'], 'nor with the group commit path warmed up');
    assert.equal((await bob.http.data(OpenDirectRoomDocument, { userId: alice.id })).openDirectRoom.id, dm.id, 'the blocker still can open it');
    assert.deepEqual(errorCodes(await send(bob, dm.id)), [], 'blocking is one way: the blocker can still send');

    assert.equal((await bob.http.data(UnblockUserDocument, { userId: alice.id })).unblockUser, true);
    assert.deepEqual(errorCodes(await send(alice, dm.id)), []);
    assert.equal((await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom.id, dm.id);
    const [stored] = await server.sql('SELECT count(*)::int AS n FROM messages WHERE room_id = $1', [dm.id]);
    assert.deepEqual(stored, { n: 2 }, 'refused sends stored nothing');
  });

  it('blocks both ways when both block', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const dm = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    await alice.http.data(BlockUserDocument, { userId: bob.id });
    await bob.http.data(BlockUserDocument, { userId: alice.id });
    assert.deepEqual(errorCodes(await send(alice, dm.id)), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(await send(bob, dm.id)), ['FORBIDDEN']);
    assert.deepEqual(errorCodes(await alice.http.request(OpenDirectRoomDocument, { userId: bob.id })), ['NOT_FOUND']);
    assert.deepEqual(errorCodes(await bob.http.request(OpenDirectRoomDocument, { userId: alice.id })), ['NOT_FOUND']);
  });

  it('leaves shared public and private rooms alone', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob]);
    await alice.http.data(BlockUserDocument, { userId: bob.id });
    assert.deepEqual(errorCodes(await send(bob, room.id)), []);
    assert.deepEqual(errorCodes(await send(alice, room.id)), []);
  });

  it('stores the other messages of a group commit that holds a refused DM send', async () => {
    const [alice, bob, carol] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const dm = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    const room = await roomWithMembers(carol, [alice]);
    await bob.http.data(BlockUserDocument, { userId: alice.id });
    const sends = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? send(alice, dm.id, `dm ${i}`) : send(carol, room.id, `room ${i}`))));
    sends.forEach((response, i) => assert.deepEqual(errorCodes(response), i % 3 === 0 ? ['FORBIDDEN'] : [], `send ${i}`));
    const [stored] = await server.sql('SELECT count(*)::int AS n FROM messages WHERE room_id = $1', [room.id]);
    assert.deepEqual(stored, { n: 20 });
  });

  it('reports blocks: blockUser/unblockUser are idempotent, blockedUsers and User.blockedByMe list them', async () => {
    const [alice, bob, carol] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    assert.equal((await alice.http.data(BlockUserDocument, { userId: bob.id })).blockUser, true);
    assert.equal((await alice.http.data(BlockUserDocument, { userId: bob.id })).blockUser, false, 'blocked already');
    assert.equal((await alice.http.data(UnblockUserDocument, { userId: carol.id })).unblockUser, false, 'was not blocked');
    assert.deepEqual((await alice.http.data(BlockedUsersDocument, {})).blockedUsers, [{ id: bob.id, username: bob.username }]);
    assert.equal((await alice.http.data(UserDocument, { id: bob.id })).user?.blockedByMe, true);
    assert.equal((await carol.http.data(UserDocument, { id: bob.id })).user?.blockedByMe, false, 'the viewer’s own blocks only');
    assert.deepEqual(errorCodes(await alice.http.request(BlockUserDocument, { userId: alice.id })), ['BAD_USER_INPUT']);
    assert.deepEqual(errorCodes(await alice.http.request(BlockUserDocument, { userId: randomUUID() })), ['NOT_FOUND']);
    assert.deepEqual(errorCodes(await alice.http.request(BlockUserDocument, { userId: 'x' })), ['NOT_FOUND']);
  });
});
