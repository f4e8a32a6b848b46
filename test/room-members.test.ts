import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InviteToRoomDocument, JoinRoomDocument, LeaveRoomDocument, OpenDirectRoomDocument, RoomPeopleDocument } from './__generated__/graphql.js';
import { createRoom, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('room members', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  const people = async (viewer: TestUser, roomId: string, page: { first?: number; after?: string | null } = {}) => (await viewer.http.data(RoomPeopleDocument, { id: roomId, ...page })).room;

  it('lists the owner first, then members by username ignoring case, with roles, join times and a count', async () => {
    const owner = await signUp(server, `zz${Date.now()}`);
    const members = await Promise.all(['Bo', 'al', 'Cy'].map((name) => signUp(server, `${name}${Date.now()}`)));
    const room = await createRoom(owner);
    for (const member of members) await member.http.data(JoinRoomDocument, { roomId: room.id });
    const outsider = await signUp(server);
    const seen = await people(outsider, room.id);
    assert.ok(seen);
    const expected = [owner, ...[...members].sort((a, b) => a.username.toLowerCase().localeCompare(b.username.toLowerCase()))];
    assert.deepEqual(seen.members.edges.map((e) => [e.node.user.username, e.node.role]), expected.map((u, i) => [u.username, i === 0 ? 'OWNER' : 'MEMBER']));
    assert.ok(seen.members.edges.every((e) => !Number.isNaN(Date.parse(e.node.joinedAt))));
    assert.equal(seen.memberCount, 4);
    assert.equal(seen.isMember, false, 'a public room’s members are visible to non-members');
    assert.equal((await people(members[0]!, room.id))?.isMember, true);

    // One at a time, the pages add up to the same list.
    const paged: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const page = await people(outsider, room.id, { first: 1, after: cursor });
      paged.push(...page!.members.edges.map((e) => e.node.user.username));
      if (!page!.members.pageInfo.hasNextPage) break;
      cursor = page!.members.pageInfo.endCursor ?? null;
    }
    assert.deepEqual(paged, expected.map((u) => u.username));
    assert.deepEqual(errorCodes(await outsider.http.request(RoomPeopleDocument, { id: room.id, first: 101 })), ['BAD_USER_INPUT']);
    assert.deepEqual(errorCodes(await outsider.http.request(RoomPeopleDocument, { id: room.id, after: 'nope' })), ['BAD_USER_INPUT']);
  });

  it('shows a private room’s members only to its members and invitees, and a DM’s only to its two', async () => {
    const [owner, invitee, outsider] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const room = await createRoom(owner, 'PRIVATE');
    assert.equal(await people(outsider, room.id), null);
    await owner.http.data(InviteToRoomDocument, { roomId: room.id, userId: invitee.id });
    assert.deepEqual((await people(invitee, room.id))?.members.edges.map((e) => e.node.user.id), [owner.id]);
    const dm = (await owner.http.data(OpenDirectRoomDocument, { userId: invitee.id })).openDirectRoom;
    assert.equal(await people(outsider, dm.id), null);
    assert.equal((await people(invitee, dm.id))?.memberCount, 2);
  });

  it('passes ownership to the longest-standing member when the owner leaves, and closes a room its last member leaves', async () => {
    const [owner, first, second] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const room = await createRoom(owner);
    await first.http.data(JoinRoomDocument, { roomId: room.id });
    await second.http.data(JoinRoomDocument, { roomId: room.id });
    await owner.http.data(LeaveRoomDocument, { roomId: room.id });
    const after = await people(second, room.id);
    assert.deepEqual(after?.members.edges.map((e) => [e.node.user.id, e.node.role]), [[first.id, 'OWNER'], [second.id, 'MEMBER']]);
    assert.equal(after?.memberCount, 2);
    await first.http.data(LeaveRoomDocument, { roomId: room.id });
    assert.deepEqual((await people(second, room.id))?.members.edges.map((e) => e.node.role), ['OWNER']);
    await second.http.data(LeaveRoomDocument, { roomId: room.id });
    assert.equal((await people(owner, room.id))?.memberCount, 0);
    assert.deepEqual(errorCodes(await owner.http.request(JoinRoomDocument, { roomId: room.id })), ['NOT_FOUND'], 'a closed room cannot be joined');
  });
});
