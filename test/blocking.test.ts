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
import pg from 'pg';
import { pino } from 'pino';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { waitForLockWaiters } from './helpers/lock-waiters.js';
import { errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('blocking', () => {
  let server: TestServer;
  const warnings: Record<string, unknown>[] = [];
  before(async () => {
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
    server = await startTestServer({}, { logger });
  });
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

  it('leaves a refused DM send out of a group commit: the batch is stored as one, the send is FORBIDDEN', async () => {
    const [alice, bob, carol] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const dm = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    const room = await roomWithMembers(carol, [alice]);
    await bob.http.data(BlockUserDocument, { userId: alice.id });
    // Hold the room's lock so that the first send waits and the others gather into one batch behind it.
    const holder = new pg.Client({ connectionString: server.databaseUrl });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [room.id]);
    const sends = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? send(alice, dm.id, `dm ${i}`) : send(carol, room.id, `room ${i}`)));
    await waitForLockWaiters(server);
    await holder.query('COMMIT');
    await holder.end();
    const results = await Promise.all(sends);
    results.forEach((response, i) => assert.deepEqual(errorCodes(response), i % 3 === 0 ? ['FORBIDDEN'] : [], `send ${i}`));
    const [stored] = await server.sql('SELECT count(*)::int AS n FROM messages WHERE room_id = $1', [room.id]);
    assert.deepEqual(stored, { n: 20 });
    assert.deepEqual(warnings.filter((w) => w['msg'] === 'group commit failed: storing its messages one by one'), [], 'no batch failed as a whole');
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
