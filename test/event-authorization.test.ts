import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  AddReactionDocument,
  DeleteMessageDocument,
  EditMessageDocument,
  HistoryDocument,
  InviteToRoomDocument,
  JoinRoomDocument,
  MarkReadDocument,
  RemoveMemberDocument,
  RemoveReactionDocument,
  RenameRoomDocument,
  SendMessageDocument,
  SendReplyDocument,
  SetTypingDocument,
} from './__generated__/graphql.js';
import { createRoom, roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes, type GraphQLResponse } from './helpers/http-client.js';
import { ManualClock } from './helpers/manual-clock.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const codeOf = (response: GraphQLResponse<unknown>) => errorCodes(response)[0] ?? 'OK';

describe('authorization and validation of the event mutations', () => {
  let server: TestServer;
  let owner: TestUser;
  let member: TestUser;
  let outsider: TestUser;
  let publicRoom: string;
  let privateRoom: string;
  let ownersMessage: { id: string; seq: number };
  let membersMessage: { id: string; seq: number };
  let privateMessage: string;

  before(async () => {
    server = await startTestServer({}, { clock: new ManualClock() });
    [owner, member, outsider] = [await signUp(server), await signUp(server), await signUp(server)];
    publicRoom = (await roomWithMembers(owner, [member])).id;
    privateRoom = (await createRoom(owner, 'PRIVATE')).id;
    ownersMessage = (await owner.http.data(SendMessageDocument, { roomId: publicRoom, body: 'by the owner' })).sendMessage;
    membersMessage = (await member.http.data(SendMessageDocument, { roomId: publicRoom, body: 'by a member' })).sendMessage;
    privateMessage = (await owner.http.data(SendMessageDocument, { roomId: privateRoom, body: 'secret' })).sendMessage.id;
  });
  after(() => server.stop());

  it('lets only the author edit', async () => {
    assert.equal(codeOf(await owner.http.request(EditMessageDocument, { messageId: membersMessage.id, body: 'hijack' })), 'FORBIDDEN');
    const edited = await member.http.data(EditMessageDocument, { messageId: membersMessage.id, body: '  edited  ' });
    assert.equal(edited.editMessage.body, 'edited');
    assert.ok(edited.editMessage.editedAt);
    for (const body of ['', ' ', 'x'.repeat(4001)]) {
      assert.equal(codeOf(await member.http.request(EditMessageDocument, { messageId: membersMessage.id, body })), 'BAD_USER_INPUT');
    }
  });

  it('lets the author or the room owner delete, nobody else; the text is gone from storage', async () => {
    const victim = (await owner.http.data(SendMessageDocument, { roomId: publicRoom, body: 'delete me' })).sendMessage;
    assert.equal(codeOf(await member.http.request(DeleteMessageDocument, { messageId: victim.id })), 'FORBIDDEN');
    const own = (await member.http.data(SendMessageDocument, { roomId: publicRoom, body: 'my secret' })).sendMessage;
    await owner.http.data(AddReactionDocument, { messageId: own.id, emoji: '👍' });
    const tombstone = (await owner.http.data(DeleteMessageDocument, { messageId: own.id })).deleteMessage; // owner deletes a member's message
    assert.deepEqual([tombstone.body, tombstone.deletedAt !== null, tombstone.reactions], ['', true, []]);
    const [row] = await server.sql<{ body: string }>('SELECT body FROM messages WHERE id = $1', [own.id]);
    assert.equal(row!.body, '');
    const reactions = await server.sql('SELECT 1 FROM message_reactions WHERE message_id = $1', [own.id]);
    assert.equal(reactions.length, 0);
    // The tombstone stays in history; deleting it again changes nothing; it can be neither edited nor reacted to.
    const history = (await member.http.data(HistoryDocument, { roomId: publicRoom, first: 100 })).messages.edges.map((e) => e.node);
    assert.ok(history.some((m) => m.id === own.id && m.body === '' && m.deletedAt !== null));
    const seqBefore = (await server.sql<{ last_seq: number }>('SELECT last_seq FROM rooms WHERE id = $1', [publicRoom]))[0]!.last_seq;
    assert.equal(codeOf(await member.http.request(DeleteMessageDocument, { messageId: own.id })), 'OK');
    assert.equal((await server.sql<{ last_seq: number }>('SELECT last_seq FROM rooms WHERE id = $1', [publicRoom]))[0]!.last_seq, seqBefore);
    assert.equal(codeOf(await member.http.request(EditMessageDocument, { messageId: own.id, body: 'resurrect' })), 'BAD_USER_INPUT');
    assert.equal(codeOf(await member.http.request(AddReactionDocument, { messageId: own.id, emoji: '👍' })), 'BAD_USER_INPUT');
  });

  it('lets only the owner rename the room and remove members', async () => {
    assert.equal(codeOf(await member.http.request(RenameRoomDocument, { roomId: publicRoom, name: 'mine now' })), 'FORBIDDEN');
    assert.equal(codeOf(await member.http.request(RemoveMemberDocument, { roomId: publicRoom, userId: owner.id })), 'FORBIDDEN');
    assert.equal((await owner.http.data(RenameRoomDocument, { roomId: publicRoom, name: ' new name ' })).renameRoom.name, 'new name');
    assert.equal(codeOf(await owner.http.request(RenameRoomDocument, { roomId: publicRoom, name: '   ' })), 'BAD_USER_INPUT');
    assert.equal(codeOf(await owner.http.request(RemoveMemberDocument, { roomId: publicRoom, userId: owner.id })), 'BAD_USER_INPUT');
    assert.equal((await owner.http.data(RemoveMemberDocument, { roomId: publicRoom, userId: outsider.id })).removeMember, false);
    assert.equal((await owner.http.data(RemoveMemberDocument, { roomId: publicRoom, userId: randomUUID() })).removeMember, false);
  });

  it('denies non-members every room and message operation: FORBIDDEN on a public room, NOT_FOUND on a private one', async () => {
    const cases: [string, (roomId: string, messageId: string) => Promise<GraphQLResponse<unknown>>][] = [
      ['editMessage', (_, messageId) => outsider.http.request(EditMessageDocument, { messageId, body: 'x' })],
      ['deleteMessage', (_, messageId) => outsider.http.request(DeleteMessageDocument, { messageId })],
      ['addReaction', (_, messageId) => outsider.http.request(AddReactionDocument, { messageId, emoji: '👍' })],
      ['removeReaction', (_, messageId) => outsider.http.request(RemoveReactionDocument, { messageId, emoji: '👍' })],
      ['renameRoom', (roomId) => outsider.http.request(RenameRoomDocument, { roomId, name: 'x' })],
      ['removeMember', (roomId) => outsider.http.request(RemoveMemberDocument, { roomId, userId: owner.id })],
      ['setTyping', (roomId) => outsider.http.request(SetTypingDocument, { roomId, isTyping: true })],
      ['markRead', (roomId) => outsider.http.request(MarkReadDocument, { roomId, seq: 0 })],
      ['sendMessage with replyToId', (roomId, messageId) => outsider.http.request(SendReplyDocument, { roomId, body: 'x', replyToId: messageId })],
    ];
    for (const [name, run] of cases) {
      assert.equal(codeOf(await run(publicRoom, ownersMessage.id)), 'FORBIDDEN', `${name} on a public room`);
      const hidden = await run(privateRoom, privateMessage);
      assert.equal(codeOf(hidden), 'NOT_FOUND', `${name} on a private room`);
      assert.equal(codeOf(await run(randomUUID(), randomUUID())), 'NOT_FOUND', `${name} on unknown ids`);
      assert.equal(hidden.data ?? null, null);
    }
  });

  it('rejects a reply to a message of another room, and accepts one to a message of the same room', async () => {
    const otherRoom = (await roomWithMembers(owner, [member])).id;
    const foreign = await member.http.request(SendReplyDocument, { roomId: otherRoom, body: 'x', replyToId: ownersMessage.id });
    assert.deepEqual(foreign.errors?.map((e) => [e.extensions?.['code'], e.message]), [['NOT_FOUND', 'Reply target message not found']]);
    const reply = await member.http.data(SendReplyDocument, { roomId: publicRoom, body: 'x', replyToId: ownersMessage.id });
    assert.equal(reply.sendMessage.replyTo?.id, ownersMessage.id);
  });

  it('keeps at most one reaction per user per emoji, and validates the emoji', async () => {
    const target = ownersMessage.id;
    for (const emoji of ['👍', '👍', '👩🏽‍💻', '🇫🇷', ':tada:', ':+1:']) await member.http.data(AddReactionDocument, { messageId: target, emoji });
    await owner.http.data(AddReactionDocument, { messageId: target, emoji: '👍' });
    const seen = (await member.http.data(AddReactionDocument, { messageId: target, emoji: '👍' })).addReaction.reactions;
    assert.deepEqual(seen, [
      { emoji: '👍', count: 2, reactedByMe: true },
      { emoji: '👩🏽‍💻', count: 1, reactedByMe: true },
      { emoji: '🇫🇷', count: 1, reactedByMe: true },
      { emoji: ':tada:', count: 1, reactedByMe: true },
      { emoji: ':+1:', count: 1, reactedByMe: true },
    ]);
    const ownersView = (await owner.http.data(RemoveReactionDocument, { messageId: target, emoji: '👍' })).removeReaction.reactions;
    assert.deepEqual(ownersView[0], { emoji: '👍', count: 1, reactedByMe: false });
    for (const emoji of ['', 'ab', '👍👍', ':UPPER:', ':has space:', `:${'a'.repeat(33)}:`, ' ', '\u0000', '👍 ', '\ud83d']) {
      const response = await member.http.request(AddReactionDocument, { messageId: target, emoji });
      assert.equal(codeOf(response), 'BAD_USER_INPUT', JSON.stringify(emoji));
    }
  });

  it('lets an invited-but-not-joined user see nothing of the private room’s messages', async () => {
    await owner.http.data(InviteToRoomDocument, { roomId: privateRoom, userId: outsider.id });
    assert.equal(codeOf(await outsider.http.request(EditMessageDocument, { messageId: privateMessage, body: 'x' })), 'FORBIDDEN');
    assert.equal(codeOf(await outsider.http.request(HistoryDocument, { roomId: privateRoom })), 'FORBIDDEN');
    await outsider.http.data(JoinRoomDocument, { roomId: privateRoom });
    assert.equal(codeOf(await outsider.http.request(HistoryDocument, { roomId: privateRoom })), 'OK');
  });
});
