import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  BlockUserDocument,
  DeleteAccountDocument,
  DeleteMessageDocument,
  EditMentionDocument,
  JoinRoomDocument,
  MarkReadDocument,
  MentionCountsDocument,
  MentionHistoryDocument,
  MentionInboxDocument,
  OpenDirectRoomDocument,
  SendMentionDocument,
} from './__generated__/graphql.js';
import { createRoom, PASSWORD, roomWithMembers, signUp, uniqueName, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('mentions', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(); // SEND_GROUP_COMMIT on: plain sends take the group commit
  });
  after(() => server.stop());

  const send = async (from: TestUser, roomId: string, body: string, clientMessageId?: string) =>
    (await from.http.data(SendMentionDocument, { roomId, body, ...(clientMessageId ? { clientMessageId } : {}) })).sendMessage;
  const edit = async (from: TestUser, messageId: string, body: string) => (await from.http.data(EditMentionDocument, { messageId, body })).editMessage;
  const names = (message: { mentions: { username: string }[] }) => message.mentions.map((user) => user.username).sort();
  const usernames = (...users: TestUser[]) => users.map((user) => user.username).sort();

  /** The ids of the messages the user's inbox says mentioned them, in inbox order. */
  async function mentionedIn(user: TestUser): Promise<string[]> {
    const { inboxEvents } = await user.http.data(MentionInboxDocument, {});
    return inboxEvents.edges.flatMap(({ node }) => (node.__typename === 'Mentioned' ? [node.message!.id] : []));
  }

  async function counts(user: TestUser, roomId: string) {
    const room = (await user.http.data(MentionCountsDocument, {})).rooms.find((r) => r.id === roomId);
    assert.ok(room, 'the user is a member of the room');
    return { unread: room.unreadCount, mentions: room.mentionCount };
  }

  it('resolves @names to members ignoring case and punctuation around them, each member once, and tells each once', async () => {
    const [alice, bob, carol, dave] = await Promise.all([signUp(server), signUp(server), signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob, carol, dave]);
    const body = `Hi @${bob.username.toUpperCase()}, (@${carol.username}) and "@${dave.username}"! Again: @${bob.username}; bye @${dave.username}.`;
    const message = await send(alice, room.id, body);
    assert.deepEqual(names(message), usernames(bob, carol, dave));
    assert.equal(message.body, body, 'the body is stored as written');
    const history = (await bob.http.data(MentionHistoryDocument, { roomId: room.id })).messages.edges.map((e) => e.node);
    assert.deepEqual(names(history.find((m) => m.id === message.id)!), usernames(bob, carol, dave), 'history shows the same mentions');
    for (const user of [bob, carol, dave]) assert.deepEqual(await mentionedIn(user), [message.id], `${user.username} is told once`);
    assert.deepEqual(await mentionedIn(alice), [], 'the author is not told');
  });

  it('does not read addresses, paths, package scopes or longer words as mentions', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob]);
    const b = bob.username;
    for (const body of [`mail ${b}@${b}.com`, `x@${b}`, `@${b}.com`, `@${b}@example.org`, `https://host/@${b}`, `@${b}/pkg`, `@${b}é`, `@${b}x`, `@ ${b}`]) {
      const message = await send(alice, room.id, body);
      assert.deepEqual(message.mentions, [], `${JSON.stringify(body)} mentions nobody`);
    }
    assert.deepEqual(await mentionedIn(bob), []);
  });

  it('prefers the member whose name ends in the trailing dot or dash, else reads the dot as punctuation', async () => {
    const base = uniqueName('dot');
    const [alice, plain, dotted, other] = await Promise.all([signUp(server), signUp(server, base), signUp(server, `${base}.`), signUp(server)]);
    const room = await roomWithMembers(alice, [plain, dotted]);
    assert.deepEqual(names(await send(alice, room.id, `ask @${base}.`)), [dotted.username], 'the member called `name.`');
    assert.deepEqual(names(await send(alice, room.id, `ask @${base}-- or @${base}.-`)), usernames(plain, dotted));
    const elsewhere = await roomWithMembers(alice, [plain]); // `name.` exists but is not a member here
    assert.deepEqual(names(await send(alice, elsewhere.id, `thanks @${base}.`)), [plain.username]);
    assert.deepEqual(names(await send(alice, elsewhere.id, `thanks @${other.username}.`)), [], 'a non-member, dot or not');
  });

  it('looks up at most 20 distinct @names per message, the first ones in the body', async () => {
    const alice = await signUp(server);
    const prefix = uniqueName('cap');
    const members: TestUser[] = [];
    for (let i = 0; i < 22; i++) members.push(await signUp(server, `${prefix}_${String(i).padStart(2, '0')}`));
    const room = await roomWithMembers(alice, members);
    // Repeats in other letter cases do not use up the budget.
    const body = members.map((member, i) => `@${member.username} @${i % 2 ? member.username.toUpperCase() : member.username}`).join(' ');
    const message = await send(alice, room.id, body);
    assert.deepEqual(names(message), usernames(...members.slice(0, 20)));
    assert.deepEqual(await mentionedIn(members[19]!), [message.id]);
    assert.deepEqual(await mentionedIn(members[20]!), []);
  });

  it('mentions nobody for a non-member, the author, a block either way or a deleted account', async () => {
    const [alice, blockedByAlice, blockingAlice, leaving, outsider, member] = await Promise.all([
      signUp(server),
      signUp(server),
      signUp(server),
      signUp(server),
      signUp(server),
      signUp(server),
    ]);
    const room = await roomWithMembers(alice, [blockedByAlice, blockingAlice, leaving, member]);
    await alice.http.data(BlockUserDocument, { userId: blockedByAlice.id });
    await blockingAlice.http.data(BlockUserDocument, { userId: alice.id });
    await leaving.http.data(DeleteAccountDocument, { password: PASSWORD });
    const named = [alice, blockedByAlice, blockingAlice, leaving, outsider, member].map((user) => `@${user.username}`).join(' ');
    const message = await send(alice, room.id, named);
    assert.deepEqual(names(message), [member.username], 'only the member in good standing');
    for (const user of [blockedByAlice, blockingAlice, outsider]) assert.deepEqual(await mentionedIn(user), [], `${user.username} is not told`);
    assert.deepEqual(await mentionedIn(member), [message.id]);
    const [told] = await server.sql<{ n: number }>("SELECT count(*)::int AS n FROM user_events WHERE kind = 'MENTIONED' AND message_id = $1", [message.id]);
    assert.deepEqual(told, { n: 1 }, 'one MENTIONED event in all');
    // The blocked user's own mention of alice reaches nobody either.
    assert.deepEqual((await send(blockedByAlice, room.id, `@${alice.username} hello?`)).mentions, []);
    assert.deepEqual(await mentionedIn(alice), []);
  });

  it('an edit that adds a mention tells once; removing one does not un-tell; adding it back does not tell again', async () => {
    const [alice, bob, carol] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob, carol]);
    const message = await send(alice, room.id, 'hello all');
    assert.deepEqual(message.mentions, []);
    assert.deepEqual(names(await edit(alice, message.id, `hello @${bob.username}`)), [bob.username]);
    assert.deepEqual(await mentionedIn(bob), [message.id]);
    assert.deepEqual(names(await edit(alice, message.id, `hello @${bob.username} and @${carol.username}`)), usernames(bob, carol));
    assert.deepEqual(await mentionedIn(carol), [message.id]);
    assert.deepEqual(await mentionedIn(bob), [message.id], 'bob was mentioned already: not told again');
    assert.equal((await counts(bob, room.id)).mentions, 1);

    assert.deepEqual(names(await edit(alice, message.id, `hello @${carol.username}`)), [carol.username], 'the mentions shrink');
    assert.equal((await counts(bob, room.id)).mentions, 0, 'a dropped mention no longer counts');
    assert.deepEqual(await mentionedIn(bob), [message.id], 'the event stays in the log');

    assert.deepEqual(names(await edit(alice, message.id, `hello @${bob.username} @${carol.username}`)), usernames(bob, carol));
    assert.equal((await counts(bob, room.id)).mentions, 1, 'counted again');
    assert.deepEqual(await mentionedIn(bob), [message.id], 'and not told a second time');
    assert.deepEqual(await mentionedIn(carol), [message.id]);

    assert.deepEqual((await edit(alice, message.id, 'never mind')).mentions, []);
    const deleted = (await alice.http.data(DeleteMessageDocument, { messageId: message.id })).deleteMessage;
    assert.ok(deleted.deletedAt);
    const mentioned = await send(alice, room.id, `@${bob.username} look`);
    await alice.http.data(DeleteMessageDocument, { messageId: mentioned.id });
    const tombstone = (await bob.http.data(MentionHistoryDocument, { roomId: room.id })).messages.edges.find((e) => e.node.id === mentioned.id)!.node;
    assert.deepEqual(tombstone.mentions, [], 'a deleted message mentions nobody');
  });

  it('mentionCount counts unread, not deleted messages that mention the viewer, and falls with markRead', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob]);
    const m1 = await send(alice, room.id, `@${bob.username} one`);
    await send(alice, room.id, 'two, plain');
    const m3 = await send(alice, room.id, `three @${bob.username.toUpperCase()}`);
    const m4 = await send(alice, room.id, `four @${bob.username}`);
    const m5 = await send(alice, room.id, `five (@${bob.username})`);
    await send(bob, room.id, `bob's own @${bob.username}`);
    assert.deepEqual(await counts(bob, room.id), { unread: 5, mentions: 4 });
    assert.deepEqual(await counts(alice, room.id), { unread: 1, mentions: 0 });

    await alice.http.data(DeleteMessageDocument, { messageId: m4.id });
    assert.deepEqual(await counts(bob, room.id), { unread: 4, mentions: 3 }, 'a deleted message no longer counts');

    await bob.http.data(MarkReadDocument, { roomId: room.id, seq: m1.seq });
    assert.deepEqual(await counts(bob, room.id), { unread: 3, mentions: 2 });
    await bob.http.data(MarkReadDocument, { roomId: room.id, seq: m3.seq });
    assert.deepEqual(await counts(bob, room.id), { unread: 1, mentions: 1 });
    await bob.http.data(MarkReadDocument, { roomId: room.id, seq: m5.seq });
    assert.deepEqual(await counts(bob, room.id), { unread: 0, mentions: 0 });
    assert.deepEqual(await mentionedIn(bob), [m1.id, m3.id, m4.id, m5.id], 'the inbox keeps every mention, in order');
  });

  it('counts every unread message by the other participant as a mention in a DIRECT room', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const dm = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    await send(alice, dm.id, 'hi');
    await send(alice, dm.id, `@${bob.username} are you there?`);
    const third = await send(alice, dm.id, 'hello?');
    await send(bob, dm.id, 'yes');
    assert.deepEqual(await counts(bob, dm.id), { unread: 3, mentions: 3 });
    assert.deepEqual(await counts(alice, dm.id), { unread: 1, mentions: 1 });
    await alice.http.data(DeleteMessageDocument, { messageId: third.id });
    assert.deepEqual(await counts(bob, dm.id), { unread: 2, mentions: 2 });
    await bob.http.data(MarkReadDocument, { roomId: dm.id, seq: third.seq });
    assert.deepEqual(await counts(bob, dm.id), { unread: 0, mentions: 0 });
  });

  it('keeps plain sends on the group commit: one statement, no transaction and no mention writes without an @name', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob]);
    const statementsOf = async (body: string) => {
      const from = server.sqlStatements.length;
      await send(alice, room.id, body);
      return server.sqlStatements.slice(from);
    };
    for (const body of ['plain', `write to ${bob.username}@example.org`]) {
      const statements = await statementsOf(body);
      assert.deepEqual(statements.filter((sql) => /INSERT INTO messages/.test(sql)).length, 1);
      const writes = statements.filter((sql) => !/^\s*SELECT/i.test(sql));
      assert.equal(writes.length, 1, `${body}: ${writes.join('\n---\n')}`);
    }
    const mentioning = await statementsOf(`@${bob.username}`);
    assert.ok(mentioning.some((sql) => /START TRANSACTION/.test(sql)), 'a send with an @name is a transaction (which the check above would see)');
    assert.ok(mentioning.some((sql) => /INSERT INTO message_mentions/.test(sql)));
  });

  it('refuses a mention send by a non-member or to a refusing DM peer, storing nothing', async () => {
    const [alice, bob, mallory] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const room = await createRoom(alice, 'PRIVATE');
    assert.deepEqual(errorCodes(await mallory.http.request(SendMentionDocument, { roomId: room.id, body: `@${alice.username}` })), ['NOT_FOUND']);
    const open = await createRoom(alice);
    assert.deepEqual(errorCodes(await mallory.http.request(SendMentionDocument, { roomId: open.id, body: `@${alice.username}` })), ['FORBIDDEN']);
    const dm = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    await bob.http.data(BlockUserDocument, { userId: alice.id });
    assert.deepEqual(errorCodes(await alice.http.request(SendMentionDocument, { roomId: dm.id, body: `@${bob.username} hi` })), ['FORBIDDEN']);
    const [stored] = await server.sql<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE room_id = ANY($1::uuid[])', [[room.id, open.id, dm.id]]);
    assert.deepEqual(stored, { n: 0 });
    assert.deepEqual(await mentionedIn(alice), []);
    assert.deepEqual(await mentionedIn(bob), []);
    // Joining afterwards makes the same send work.
    await mallory.http.data(JoinRoomDocument, { roomId: open.id });
    assert.deepEqual(names(await send(mallory, open.id, `@${alice.username}`)), [alice.username]);
  });

  it('a mention reply keeps the reply rules', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob]);
    const other = await roomWithMembers(alice, [bob]);
    const target = await send(bob, room.id, 'question');
    const foreign = await send(bob, other.id, 'elsewhere');
    const reply = await alice.http.data(SendMentionDocument, { roomId: room.id, body: `@${bob.username} answer`, replyToId: target.id });
    assert.deepEqual(names(reply.sendMessage), [bob.username]);
    assert.deepEqual(errorCodes(await alice.http.request(SendMentionDocument, { roomId: room.id, body: `@${bob.username}`, replyToId: foreign.id })), ['NOT_FOUND']);
    assert.deepEqual(await mentionedIn(bob), [reply.sendMessage.id]);
  });

  it('retries of a mention send with one clientMessageId, also concurrent, store it once and tell once', async () => {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob]);
    const body = `@${bob.username} once`;
    const attempts = await Promise.all(Array.from({ length: 8 }, () => send(alice, room.id, body, 'retry-1')));
    const later = await send(alice, room.id, body, 'retry-1');
    const ids = new Set([...attempts, later].map((message) => message.id));
    assert.equal(ids.size, 1, 'every attempt answers with the one message');
    const [id] = ids;
    assert.deepEqual(names(later), [bob.username]);
    const [stored] = await server.sql<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE room_id = $1', [room.id]);
    assert.deepEqual(stored, { n: 1 });
    assert.deepEqual(await mentionedIn(bob), [id]);
    const seqs = await server.sql<{ seq: number }>('SELECT seq FROM room_events WHERE room_id = $1 ORDER BY seq', [room.id]);
    assert.deepEqual(seqs.map((row) => row.seq), [1, 2], 'the join and the one message: the losers left no gap');
  });

  it('concurrent mention and plain sends keep the room log gap-free and tell each mentioned member exactly once', async () => {
    const members = await Promise.all(Array.from({ length: 5 }, () => signUp(server)));
    const [owner, ...rest] = members;
    const room = await roomWithMembers(owner!, rest);
    const sends = Array.from({ length: 60 }, (_, i) => {
      const sender = members[i % members.length]!;
      const named = i % 3 === 0 ? [] : [members[(i + 1) % members.length]!, members[(i + 2) % members.length]!];
      const body = `#${i} ${named.map((user) => `@${user.username}`).join(' ')}`.trim();
      return send(sender, room.id, body).then((message) => ({ message, named }));
    });
    const sent = await Promise.all(sends);

    const seqs = sent.map(({ message }) => message.seq).sort((a, b) => a - b);
    assert.equal(new Set(seqs).size, 60);
    const events = await server.sql<{ seq: number }>('SELECT seq FROM room_events WHERE room_id = $1 ORDER BY seq', [room.id]);
    assert.deepEqual(events.map((row) => row.seq), Array.from({ length: events.length }, (_, i) => i + 1), 'no gaps');
    assert.equal(events.length, 4 + 60, 'four joins and sixty messages');

    for (const { message, named } of sent) assert.deepEqual(names(message), usernames(...named));
    const told = await server.sql<{ user_id: string; message_id: string }>(
      "SELECT user_id, message_id FROM user_events WHERE kind = 'MENTIONED' AND room_id = $1",
      [room.id],
    );
    const expected = sent.flatMap(({ message, named }) => named.map((user) => `${user.id} ${message.id}`)).sort();
    assert.deepEqual(told.map((row) => `${row.user_id} ${row.message_id}`).sort(), expected, 'each mention once, no other');
    const logs = await server.sql<{ n: number; top: number }>(
      'SELECT count(*)::int AS n, max(seq) AS top FROM user_events WHERE user_id = ANY($1::uuid[]) GROUP BY user_id',
      [members.map((member) => member.id)],
    );
    for (const log of logs) assert.equal(log.top, log.n, 'every user log is gap-free');
  });
});
