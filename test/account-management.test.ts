import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AccountHistoryDocument,
  AddReactionDocument,
  ChangePasswordDocument,
  CreateRoomDocument,
  DeleteAccountDocument,
  InviteToRoomDocument,
  JoinRoomDocument,
  LeaveRoomDocument,
  MeDocument,
  RefreshTokenDocument,
  RenameRoomDocument,
  SendMessageDocument,
  SignInDocument,
  SignOutDocument,
  SignUpDocument,
} from './__generated__/graphql.js';
import { PASSWORD, createRoom, roomWithMembers, signUp } from './helpers/fixtures.js';
import { HttpClient, dataOf, errorCodes, postGraphQL, type GraphQLResponse } from './helpers/http-client.js';
import { RawGraphQLWs } from './helpers/raw-graphql-ws.js';
import { followRoom, waitUntilAllLive } from './helpers/room-events.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const NEW_PASSWORD = 'a brand new passphrase';

/** How the server closed the socket; fails the test when it has not within 5 s. */
async function closeOf(socket: RawGraphQLWs): Promise<{ code: number; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the socket was not closed within 5 s')), 5000)));
  return Promise.race([socket.closed, timeout]).finally(() => clearTimeout(timer));
}

/** A socket of `token` that completed connection_init. */
async function openSocket(server: TestServer, token: string): Promise<RawGraphQLWs> {
  const socket = new RawGraphQLWs(server.wsUrl);
  await socket.init({ authorization: `Bearer ${token}` });
  return socket;
}

/** The `extensions.argumentName` of each error of a response. */
function argumentNames(response: GraphQLResponse<unknown>): unknown[] {
  return (response.errors ?? []).map((e) => e.extensions?.['argumentName']);
}

function signIn(server: TestServer, username: string, password: string) {
  return postGraphQL(server.url, SignInDocument, { username, password });
}

describe('changePassword', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  it('refuses a wrong current password and a new password outside the sign-up rules, changing nothing', async () => {
    const alice = await signUp(server);
    const wrong = await alice.http.request(ChangePasswordDocument, { currentPassword: 'not the password', newPassword: NEW_PASSWORD });
    assert.deepEqual(errorCodes(wrong), ['BAD_USER_INPUT']);
    assert.deepEqual(argumentNames(wrong), ['currentPassword']);
    for (const newPassword of ['short', 'x'.repeat(129)]) {
      const bad = await alice.http.request(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword });
      assert.deepEqual(errorCodes(bad), ['BAD_USER_INPUT']);
      assert.deepEqual(argumentNames(bad), ['newPassword']);
    }
    assert.equal((await alice.http.data(MeDocument, {})).me.id, alice.id, 'the token still works');
    assert.deepEqual(errorCodes(await signIn(server, alice.username, PASSWORD)), []);
    assert.deepEqual(errorCodes(await signIn(server, alice.username, NEW_PASSWORD)), ['UNAUTHENTICATED']);
  });

  it('sets the new password and returns a working token; every earlier token is refused and its sockets close with 4403', async () => {
    const alice = await signUp(server);
    const bob = await signUp(server);
    const refreshed = (await alice.http.data(RefreshTokenDocument, {})).refreshToken.token;
    const sockets = [await openSocket(server, alice.token), await openSocket(server, refreshed)];
    const bystander = await openSocket(server, bob.token);
    try {
      assert.deepEqual(errorCodes(await alice.http.request(MeDocument, {})), [], 'the old token is cached now');
      const { changePassword } = await alice.http.data(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
      assert.deepEqual(changePassword.user, { id: alice.id, username: alice.username, deleted: false });
      for (const socket of sockets) assert.deepEqual(await closeOf(socket), { code: 4403, reason: 'Signed out' });
      for (const token of [alice.token, refreshed]) {
        assert.deepEqual(errorCodes(await new HttpClient(server.url, token).request(MeDocument, {})), ['UNAUTHENTICATED']);
      }
      const fresh = new HttpClient(server.url, changePassword.token);
      assert.equal((await fresh.data(MeDocument, {})).me.id, alice.id);
      const socket = await openSocket(server, changePassword.token);
      socket.close();
      assert.deepEqual(errorCodes(await signIn(server, alice.username, PASSWORD)), ['UNAUTHENTICATED']);
      assert.equal(dataOf(await signIn(server, alice.username, NEW_PASSWORD)).signIn.user.id, alice.id);
      assert.match(await bystander.subscribe('me', '{ me { id } }').take(5000, 'me'), new RegExp(bob.id), 'other users keep their sockets');
    } finally {
      bystander.close();
    }
  });

  it('over a WebSocket, keeps the socket that asked open on the fresh token, subscriptions included; the others close', async () => {
    const alice = await signUp(server);
    const room = await createRoom(alice);
    const asking = await openSocket(server, alice.token);
    const other = await openSocket(server, alice.token);
    try {
      const events = asking.subscribe('events', 'subscription ($r: ID!) { messageAdded(roomId: $r) { body } }', { r: room.id });
      await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'before' });
      assert.match(await events.take(5000, 'before'), /before/);
      const wrong = asking.subscribe('wrong', 'mutation ($p: String!, $n: String!) { changePassword(currentPassword: $p, newPassword: $n) { token } }', { p: 'not it', n: NEW_PASSWORD });
      assert.match(await wrong.take(5000, 'the refusal'), /BAD_USER_INPUT/);
      const change = asking.subscribe('change', 'mutation ($p: String!, $n: String!) { changePassword(currentPassword: $p, newPassword: $n) { token } }', { p: PASSWORD, n: NEW_PASSWORD });
      const token = (JSON.parse(await change.take(5000, 'the new token')) as { payload: { data: { changePassword: { token: string } } } }).payload.data.changePassword.token;
      assert.deepEqual(await closeOf(other), { code: 4403, reason: 'Signed out' });
      await new HttpClient(server.url, token).data(SendMessageDocument, { roomId: room.id, body: 'after' });
      assert.match(await events.take(5000, 'after'), /after/, 'the subscription carried on');
      assert.match(await asking.subscribe('me', '{ me { id } }').take(5000, 'me'), new RegExp(alice.id), 'the socket works on');
      assert.deepEqual(errorCodes(await alice.http.request(MeDocument, {})), ['UNAUTHENTICATED'], 'the old token is revoked');
    } finally {
      asking.close();
      other.close();
    }
  });

  it('refuses an account without a password (an identity-provider account) with BAD_USER_INPUT', async () => {
    const alice = await signUp(server);
    await server.sql('UPDATE users SET password_hash = NULL WHERE id = $1', [alice.id]);
    const response = await alice.http.request(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
    assert.match(response.errors![0]!.message, /no password/);
  });

  it('needs a signed-in viewer', async () => {
    const anonymous = new HttpClient(server.url);
    assert.deepEqual(errorCodes(await anonymous.request(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })), ['UNAUTHENTICATED']);
    assert.deepEqual(errorCodes(await anonymous.request(DeleteAccountDocument, { password: PASSWORD })), ['UNAUTHENTICATED']);
  });
});

describe('changePassword and deleteAccount: the sign-in rate limit', () => {
  let server: TestServer;
  // Three failures lock the username + address pair; the other limits at their defaults.
  before(async () => (server = await startTestServer({ RATE_LIMITS: 'on', RATE_LIMIT_SIGNIN: '3/15m' })));
  after(() => server.stop());

  it('counts wrong passwords as failed sign-ins: after three, even the right one is RATE_LIMITED, and so is signIn', async () => {
    const alice = await signUp(server);
    for (const attempt of [1, 2]) {
      const wrong = await alice.http.request(ChangePasswordDocument, { currentPassword: `wrong ${attempt}`, newPassword: NEW_PASSWORD });
      assert.deepEqual(errorCodes(wrong), ['BAD_USER_INPUT']);
    }
    assert.deepEqual(errorCodes(await alice.http.request(DeleteAccountDocument, { password: 'wrong 3' })), ['BAD_USER_INPUT']);
    const locked = await alice.http.request(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    assert.deepEqual(errorCodes(locked), ['RATE_LIMITED']);
    assert.ok(Number(locked.errors![0]!.extensions!['retryAfter']) > 0);
    assert.deepEqual(errorCodes(await alice.http.request(DeleteAccountDocument, { password: PASSWORD })), ['RATE_LIMITED']);
    assert.deepEqual(errorCodes(await signIn(server, alice.username, PASSWORD)), ['RATE_LIMITED']);
    assert.deepEqual(errorCodes(await alice.http.request(MeDocument, {})), [], 'nothing was changed: the token still works');
  });

  it('clears the failures after a right password, like signIn', async () => {
    const alice = await signUp(server);
    for (const attempt of [1, 2]) {
      assert.deepEqual(errorCodes(await alice.http.request(ChangePasswordDocument, { currentPassword: `wrong ${attempt}`, newPassword: NEW_PASSWORD })), ['BAD_USER_INPUT']);
    }
    const { changePassword } = await alice.http.data(ChangePasswordDocument, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    const fresh = new HttpClient(server.url, changePassword.token);
    for (const attempt of [3, 4]) {
      assert.deepEqual(errorCodes(await fresh.request(ChangePasswordDocument, { currentPassword: `wrong ${attempt}`, newPassword: PASSWORD })), ['BAD_USER_INPUT']);
    }
    assert.equal((await fresh.data(ChangePasswordDocument, { currentPassword: NEW_PASSWORD, newPassword: PASSWORD })).changePassword.user.id, alice.id);
  });
});

describe('deleteAccount', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  async function memberships(roomId: string) {
    return server.sql<{ user_id: string; role: string }>('SELECT user_id, role FROM room_memberships WHERE room_id = $1 ORDER BY joined_at, user_id', [roomId]);
  }

  it('refuses a wrong password with BAD_USER_INPUT and changes nothing', async () => {
    const alice = await signUp(server);
    const room = await createRoom(alice);
    const response = await alice.http.request(DeleteAccountDocument, { password: 'not the password' });
    assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
    assert.deepEqual(argumentNames(response), ['password']);
    assert.deepEqual(await memberships(room.id), [{ user_id: alice.id, role: 'OWNER' }]);
    assert.deepEqual((await alice.http.data(MeDocument, {})).me, { id: alice.id, username: alice.username });
    assert.deepEqual(errorCodes(await signIn(server, alice.username, PASSWORD)), []);
  });

  it('removes the account from every room, live and in the logs, keeps its messages under the placeholder, frees the username and closes its sockets', async () => {
    const [alice, bob, carol] = [await signUp(server), await signUp(server), await signUp(server)];
    // Owned by alice; bob joined before carol, so bob becomes its owner.
    const owned = await roomWithMembers(alice, [bob, carol]);
    const alone = await createRoom(alice); // nobody else: stays ownerless with no members
    const bobs = await roomWithMembers(bob, [alice]);
    const left = await roomWithMembers(bob, [alice]); // alice reacts here, then leaves: the reaction goes too
    const invitedTo = await createRoom(bob, 'PRIVATE');
    await bob.http.data(InviteToRoomDocument, { roomId: invitedTo.id, userId: alice.id });
    await server.sql('INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2), ($3, $1)', [alice.id, carol.id, bob.id]);

    const byAlice = (await alice.http.data(SendMessageDocument, { roomId: owned.id, body: 'hello from alice' })).sendMessage;
    const byBob = (await bob.http.data(SendMessageDocument, { roomId: owned.id, body: 'hello from bob' })).sendMessage;
    await alice.http.data(AddReactionDocument, { messageId: byBob.id, emoji: '👍' });
    await carol.http.data(AddReactionDocument, { messageId: byBob.id, emoji: '👍' });
    const inLeft = (await bob.http.data(SendMessageDocument, { roomId: left.id, body: 'react to me' })).sendMessage;
    await alice.http.data(AddReactionDocument, { messageId: inLeft.id, emoji: '🎉' });
    await alice.http.data(LeaveRoomDocument, { roomId: left.id });

    const sockets = [await openSocket(server, alice.token), await openSocket(server, (await alice.http.data(RefreshTokenDocument, {})).refreshToken.token)];
    const follower = followRoom(server.wsUrl, bob, owned.id);
    try {
      await waitUntilAllLive([follower], bob, owned.id);
      assert.equal((await alice.http.data(DeleteAccountDocument, { password: PASSWORD })).deleteAccount, true);

      // Live: the reaction goes, then the membership, each as its own event, in the room's seq order.
      const removed = await follower.next();
      assert.ok(removed.__typename === 'ReactionChanged', JSON.stringify(removed));
      assert.deepEqual([removed.message.id, removed.emoji, removed.user?.id, removed.added], [byBob.id, '👍', alice.id, false]);
      const gone = await follower.next();
      assert.ok(gone.__typename === 'MemberLeft', JSON.stringify(gone));
      assert.deepEqual([gone.user?.id, gone.removedBy], [alice.id, null]);
      assert.equal(gone.seq, removed.seq! + 1);
      for (const socket of sockets) assert.deepEqual(await closeOf(socket), { code: 4403, reason: 'Signed out' });

      // History stays readable, attributed to the placeholder; alice's reactions are gone, carol's stay.
      const history = (await bob.http.data(AccountHistoryDocument, { roomId: owned.id })).messages.edges.map((e) => e.node);
      const mine = history.find((m) => m.id === byAlice.id)!;
      assert.equal(mine.body, 'hello from alice');
      assert.deepEqual(mine.author, { id: alice.id, username: 'deleted user', deleted: true });
      assert.deepEqual(history.find((m) => m.id === byBob.id)!.reactions, [{ emoji: '👍', count: 1, reactedByMe: false }]);
      const leftHistory = (await bob.http.data(AccountHistoryDocument, { roomId: left.id })).messages.edges.map((e) => e.node);
      assert.deepEqual(leftHistory.find((m) => m.id === inLeft.id)!.reactions, []);

      // Memberships, ownership, invitations, blocks and credentials.
      assert.deepEqual(await memberships(owned.id), [
        { user_id: bob.id, role: 'OWNER' },
        { user_id: carol.id, role: 'MEMBER' },
      ]);
      assert.deepEqual(await memberships(bobs.id), [{ user_id: bob.id, role: 'OWNER' }]);
      assert.deepEqual(await memberships(alone.id), []);
      const [aloneRow] = await server.sql<{ member_count: number }>('SELECT member_count FROM rooms WHERE id = $1', [alone.id]);
      assert.equal(aloneRow!.member_count, 0);
      const leftovers = await server.sql<{ n: number }>(
        `SELECT (SELECT count(*) FROM room_memberships WHERE user_id = $1)
              + (SELECT count(*) FROM room_invitations WHERE user_id = $1)
              + (SELECT count(*) FROM message_reactions WHERE user_id = $1)
              + (SELECT count(*) FROM user_blocks WHERE blocker_id = $1 OR blocked_id = $1) AS n`,
        [alice.id],
      );
      assert.equal(Number(leftovers[0]!.n), 0);
      const [row] = await server.sql<Record<string, unknown>>(
        'SELECT username, password_hash, external_issuer, external_subject, deleted_at IS NOT NULL AS deleted FROM users WHERE id = $1',
        [alice.id],
      );
      assert.deepEqual(row, { username: 'deleted user', password_hash: null, external_issuer: null, external_subject: null, deleted: true });
      const kinds = await server.sql<{ room_id: string; kind: string }>(
        `SELECT room_id, kind FROM room_events WHERE actor_id = $1 AND kind IN ('MEMBER_LEFT', 'REACTION_REMOVED') ORDER BY room_id, seq`,
        [alice.id],
      );
      const logged = (roomId: string) => kinds.filter((k) => k.room_id === roomId).map((k) => k.kind);
      assert.deepEqual(logged(owned.id), ['REACTION_REMOVED', 'MEMBER_LEFT']);
      assert.deepEqual(logged(alone.id), ['MEMBER_LEFT']);
      assert.deepEqual(logged(bobs.id), ['MEMBER_LEFT']);
      assert.deepEqual(logged(left.id), ['MEMBER_LEFT', 'REACTION_REMOVED'], 'her own leave, then the reaction the deletion removed');

      // The account is gone for good: token, credentials, a second deletion; the username is free.
      assert.deepEqual(errorCodes(await alice.http.request(MeDocument, {})), ['UNAUTHENTICATED']);
      assert.deepEqual(errorCodes(await alice.http.request(DeleteAccountDocument, { password: PASSWORD })), ['UNAUTHENTICATED']);
      const late = new RawGraphQLWs(server.wsUrl);
      await assert.rejects(late.init({ authorization: `Bearer ${alice.token}` }));
      assert.equal((await closeOf(late)).code, 4403);
      assert.deepEqual(errorCodes(await signIn(server, alice.username, PASSWORD)), ['UNAUTHENTICATED']);
      const again = dataOf(await postGraphQL(server.url, SignUpDocument, { username: alice.username, password: PASSWORD })).signUp;
      assert.notEqual(again.user.id, alice.id);
      assert.equal(dataOf(await signIn(server, alice.username, PASSWORD)).signIn.user.id, again.user.id);
      // The new account is a stranger to the old one's rooms.
      assert.deepEqual(await memberships(bobs.id), [{ user_id: bob.id, role: 'OWNER' }]);
    } finally {
      await follower.ws.dispose();
      for (const socket of sockets) socket.close();
    }
  });

  it('passes ownership to the longest-standing member, whoever joined last', async () => {
    const [alice, bob, carol, dave] = [await signUp(server), await signUp(server), await signUp(server), await signUp(server)];
    const room = await roomWithMembers(alice, [carol, bob, dave]);
    await dave.http.data(LeaveRoomDocument, { roomId: room.id });
    await dave.http.data(JoinRoomDocument, { roomId: room.id });
    await alice.http.data(DeleteAccountDocument, { password: PASSWORD });
    assert.deepEqual(await memberships(room.id), [
      { user_id: carol.id, role: 'OWNER' },
      { user_id: bob.id, role: 'MEMBER' },
      { user_id: dave.id, role: 'MEMBER' },
    ]);
  });

  it('is safe to run twice at once: each room logs the departure once and ownership passes once', async () => {
    const [alice, bob, carol] = [await signUp(server), await signUp(server), await signUp(server)];
    const rooms = [await roomWithMembers(alice, [bob, carol]), await roomWithMembers(bob, [alice]), await createRoom(alice)];
    const message = (await bob.http.data(SendMessageDocument, { roomId: rooms[0]!.id, body: 'react' })).sendMessage;
    await alice.http.data(AddReactionDocument, { messageId: message.id, emoji: '👍' });
    const outcomes = await Promise.all([1, 2].map(() => alice.http.request(DeleteAccountDocument, { password: PASSWORD })));
    const codes = outcomes.map((o) => (o.data?.deleteAccount === true ? 'deleted' : errorCodes(o).join()));
    assert.ok(codes.includes('deleted'), JSON.stringify(codes));
    for (const code of codes) assert.ok(code === 'deleted' || code === 'UNAUTHENTICATED', JSON.stringify(outcomes));
    const events = await server.sql<{ room_id: string; kind: string }>(
      `SELECT room_id, kind FROM room_events WHERE actor_id = $1 AND kind IN ('MEMBER_LEFT', 'REACTION_REMOVED') ORDER BY room_id, seq`,
      [alice.id],
    );
    for (const room of rooms) {
      const kinds = events.filter((e) => e.room_id === room.id).map((e) => e.kind);
      assert.deepEqual(kinds, room === rooms[0] ? ['REACTION_REMOVED', 'MEMBER_LEFT'] : ['MEMBER_LEFT']);
    }
    assert.deepEqual(await memberships(rooms[0]!.id), [
      { user_id: bob.id, role: 'OWNER' },
      { user_id: carol.id, role: 'MEMBER' },
    ]);
    const [row] = await server.sql<{ deleted: boolean }>('SELECT deleted_at IS NOT NULL AS deleted FROM users WHERE id = $1', [alice.id]);
    assert.equal(row!.deleted, true);
  });

  it('finishes the job when run again after stopping halfway (tokens revoked, some rooms done)', async () => {
    const [alice, bob] = [await signUp(server), await signUp(server)];
    const done = await roomWithMembers(bob, [alice]);
    const pending = await roomWithMembers(alice, [bob]);
    // What a first run leaves when the database goes away after its first room: tokens revoked, one room left.
    await alice.http.data(LeaveRoomDocument, { roomId: done.id });
    await alice.http.data(SignOutDocument, {}); // revokes the tokens as the first run did
    assert.deepEqual(errorCodes(await alice.http.request(MeDocument, {})), ['UNAUTHENTICATED']);

    const session = dataOf(await signIn(server, alice.username, PASSWORD)).signIn;
    const retry = new HttpClient(server.url, session.token);
    assert.equal((await retry.data(DeleteAccountDocument, { password: PASSWORD })).deleteAccount, true);
    assert.deepEqual(await memberships(pending.id), [{ user_id: bob.id, role: 'OWNER' }]);
    assert.deepEqual(errorCodes(await retry.request(MeDocument, {})), ['UNAUTHENTICATED']);
  });

  it('leaves a private room the placeholder was in to its members, who still read its messages', async () => {
    const [alice, bob] = [await signUp(server), await signUp(server)];
    const room = (await alice.http.data(CreateRoomDocument, { name: 'secret', kind: 'PRIVATE' })).createRoom;
    await alice.http.data(InviteToRoomDocument, { roomId: room.id, userId: bob.id });
    await bob.http.data(JoinRoomDocument, { roomId: room.id });
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'still here' });
    await alice.http.data(DeleteAccountDocument, { password: PASSWORD });
    const history = (await bob.http.data(AccountHistoryDocument, { roomId: room.id })).messages.edges.map((e) => e.node);
    assert.deepEqual(history.map((m) => [m.body, m.author.username, m.author.deleted]), [['still here', 'deleted user', true]]);
    assert.deepEqual(await memberships(room.id), [{ user_id: bob.id, role: 'OWNER' }]);
    // The new owner can do what owners do.
    assert.equal((await bob.http.data(RenameRoomDocument, { roomId: room.id, name: 'ours' })).renameRoom.name, 'ours');
  });
});
