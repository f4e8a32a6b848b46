import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { JoinRoomDocument, LeaveRoomDocument, PublicRoomsDocument, RoomPeopleDocument, UserDocument, UsersDocument } from './__generated__/graphql.js';
import { createRoom, signUp, uniqueName, type TestUser } from './helpers/fixtures.js';
import { HttpClient, errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('directory: publicRooms, users, user', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  before(async () => {
    server = await startTestServer();
    [alice, bob, carol] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
  });
  after(() => server.stop());

  /** Every page of publicRooms for `search`, `first` at a time. */
  async function allPublicRooms(viewer: TestUser, search: string, first: number) {
    const names: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const { publicRooms: page }: { publicRooms: { edges: { node: { name: string } }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } } } =
        await viewer.http.data(PublicRoomsDocument, { search, first, after: cursor });
      names.push(...page.edges.map((edge) => edge.node.name));
      if (!page.pageInfo.hasNextPage) return names;
      cursor = page.pageInfo.endCursor ?? null;
    }
    throw new Error('publicRooms did not end');
  }

  it('lists public rooms with members only, most members first then by name, matching a case-insensitive substring', async () => {
    const tag = uniqueName('Dir');
    const one = await createRoom(alice, 'PUBLIC', `b ${tag} one`);
    const three = await createRoom(alice, 'PUBLIC', `z ${tag} three`);
    const twoA = await createRoom(alice, 'PUBLIC', `A ${tag} two`);
    const twoB = await createRoom(alice, 'PUBLIC', `c ${tag} two`);
    await createRoom(alice, 'PRIVATE', `${tag} private`);
    const closed = await createRoom(bob, 'PUBLIC', `${tag} closed`);
    await bob.http.data(LeaveRoomDocument, { roomId: closed.id }); // its last member left: closed
    for (const [room, members] of [[three, [bob, carol]], [twoA, [bob]], [twoB, [carol]]] as const) {
      for (const member of members) await member.http.data(JoinRoomDocument, { roomId: room.id });
    }
    const { publicRooms } = await carol.http.data(PublicRoomsDocument, { search: tag.toUpperCase() });
    assert.deepEqual(
      publicRooms.edges.map((e) => [e.node.name, e.node.memberCount, e.node.kind]),
      [
        [three.name, 3, 'PUBLIC'],
        [twoA.name, 2, 'PUBLIC'],
        [twoB.name, 2, 'PUBLIC'],
        [one.name, 1, 'PUBLIC'],
      ],
    );
    assert.deepEqual(publicRooms.edges.map((e) => e.node.isMember), [true, false, true, false], 'isMember is the viewer’s');
    assert.deepEqual(await allPublicRooms(carol, tag, 1), publicRooms.edges.map((e) => e.node.name), 'paging one at a time gives the same list');
    assert.equal(publicRooms.pageInfo.hasPreviousPage, false);
    const closedJoin = await carol.http.request(JoinRoomDocument, { roomId: closed.id });
    assert.deepEqual(errorCodes(closedJoin), ['NOT_FOUND'], 'a closed room cannot be joined');
  });

  it('treats % and _ in a search as text', async () => {
    const tag = uniqueName('Lit');
    await createRoom(alice, 'PUBLIC', `${tag} 100%`);
    await createRoom(alice, 'PUBLIC', `${tag} 1000`);
    assert.deepEqual((await alice.http.data(PublicRoomsDocument, { search: `${tag} 100%` })).publicRooms.edges.map((e) => e.node.name), [`${tag} 100%`]);
    assert.deepEqual((await alice.http.data(PublicRoomsDocument, { search: `${tag} 1_0` })).publicRooms.edges, []);
  });

  it('finds live users by username prefix, ignoring case, in username order, a page at a time', async () => {
    const prefix = `p${randomUUID().slice(0, 6)}`;
    const made = await Promise.all(['b_one', 'A_two', 'c_three', 'a_four'].map((rest) => signUp(server, `${prefix}${rest}`)));
    await signUp(server, `${prefix}xbxone`); // matches `${prefix}b` only if _ were a wildcard
    const expected = made.map((u) => u.username).sort((x, y) => (x.toLowerCase() < y.toLowerCase() ? -1 : 1));
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages++) {
      const { users }: { users: { edges: { node: { username: string } }[]; pageInfo: { hasNextPage: boolean; endCursor?: string | null } } } =
        await carol.http.data(UsersDocument, { search: `${prefix.toUpperCase()}`, first: 2, after: cursor });
      seen.push(...users.edges.map((e) => e.node.username));
      if (!users.pageInfo.hasNextPage) break;
      cursor = users.pageInfo.endCursor ?? null;
    }
    assert.deepEqual(seen.filter((name) => !name.includes('xbx')), expected);
    const underscore = await carol.http.data(UsersDocument, { search: `${prefix}b_` });
    assert.deepEqual(underscore.users.edges.map((e) => e.node.username), [`${prefix}b_one`], '_ is not a wildcard');
  });

  it('validates directory arguments with BAD_USER_INPUT and needs a signed-in viewer', async () => {
    for (const variables of [{ search: '' }, { search: '   ' }, { search: 'a', first: 51 }, { search: 'a', first: -1 }, { search: 'a', after: 'bogus' }, { search: 'a\u0000' }]) {
      assert.deepEqual(errorCodes(await alice.http.request(UsersDocument, variables)), ['BAD_USER_INPUT'], JSON.stringify(variables));
    }
    const roomCursor = (await alice.http.data(PublicRoomsDocument, { first: 1 })).publicRooms.pageInfo.endCursor;
    assert.ok(roomCursor);
    assert.deepEqual(errorCodes(await alice.http.request(UsersDocument, { search: 'a', after: roomCursor })), ['BAD_USER_INPUT'], 'a cursor of another list');
    assert.deepEqual(errorCodes(await alice.http.request(PublicRoomsDocument, { first: 51 })), ['BAD_USER_INPUT']);
    // Forged cursors of the right list: refused as input, never a failed statement.
    const forge = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const room = (await alice.http.data(PublicRoomsDocument, { first: 1 })).publicRooms.edges[0]!.node;
    for (const after of [
      forge(['publicRooms', 2 ** 40, 'a', randomUUID()]),
      forge(['publicRooms', -1, 'a', randomUUID()]),
      forge(['publicRooms', 1, 'a', 'not-a-uuid']),
      forge(['publicRooms', 1, 'a\u0000', randomUUID()]),
      forge(['publicRooms', 1.5, 'a', randomUUID()]),
    ]) {
      assert.deepEqual(errorCodes(await alice.http.request(PublicRoomsDocument, { after })), ['BAD_USER_INPUT'], after);
    }
    assert.deepEqual(errorCodes(await alice.http.request(UsersDocument, { search: 'a', after: forge(['users', 'x'.repeat(5000)]) })), ['BAD_USER_INPUT']);
    assert.deepEqual(errorCodes(await alice.http.request(RoomPeopleDocument, { id: room.id, after: forge(['members', 0, 'a', 'nope']) })), ['BAD_USER_INPUT']);
    const anonymous = new HttpClient(server.url);
    assert.deepEqual(errorCodes(await anonymous.request(UsersDocument, { search: 'a' })), ['UNAUTHENTICATED']);
    assert.deepEqual(errorCodes(await anonymous.request(PublicRoomsDocument, {})), ['UNAUTHENTICATED']);
    assert.deepEqual(errorCodes(await anonymous.request(UserDocument, { id: alice.id })), ['UNAUTHENTICATED']);
  });

  it('looks a user up by id; an unknown or malformed id is null', async () => {
    assert.deepEqual((await bob.http.data(UserDocument, { id: alice.id })).user, { id: alice.id, username: alice.username, deleted: false, blockedByMe: false });
    assert.equal((await bob.http.data(UserDocument, { id: randomUUID() })).user, null);
    assert.equal((await bob.http.data(UserDocument, { id: 'not-a-uuid' })).user, null);
  });
});

describe('directory rate limit', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ RATE_LIMITS: 'on', RATE_LIMIT_DIRECTORY: '3/1m' })));
  after(() => server.stop());

  it('limits directory reads per user with RATE_LIMITED', async () => {
    const [alice, bob] = [await signUp(server), await signUp(server)];
    await alice.http.data(UsersDocument, { search: 'a' });
    await alice.http.data(PublicRoomsDocument, { search: 'a' });
    await alice.http.data(UsersDocument, { search: 'b' });
    const limited = await alice.http.request(UsersDocument, { search: 'a' });
    assert.deepEqual(errorCodes(limited), ['RATE_LIMITED']);
    await bob.http.data(UsersDocument, { search: 'a' }); // another user is not affected
  });
});
