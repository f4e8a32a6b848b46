import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AddReactionDocument,
  DeleteMessageDocument,
  EditMessageDocument,
  InviteToRoomDocument,
  MarkReadDocument,
  RenameRoomDocument,
  RoomCursorDocument,
  SendReplyDocument,
  SetTypingDocument,
} from './__generated__/graphql.js';
import { roomWithMembers, signUp } from './helpers/fixtures.js';
import { followInbox, inboxCursor } from './helpers/inbox.js';
import { followRoom } from './helpers/room-events.js';
import { startTestServer } from './helpers/test-server.js';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;

/** A payload with what differs between two servers running the same script (ids, names, times, cursors) replaced. */
function normalized(payloads: unknown[], names: string[]): string {
  const ids = new Map<string, string>();
  let text = JSON.stringify(payloads, (key, value: unknown) => (key === 'cursor' ? typeof value : value));
  text = text.replace(UUID, (id) => ids.get(id) ?? (ids.set(id, `id${ids.size}`), `id${ids.size - 1}`));
  for (const [index, name] of names.entries()) text = text.replaceAll(name, `name${index}`);
  return text.replace(TIMESTAMP, 'T').replace(/room_[0-9a-f]{8}/g, 'room_name');
}

/** One script of room and inbox activity; returns what bob's room stream and inbox delivered, normalized. */
async function runScript(serializeStreamEvents: boolean): Promise<{ room: string; inbox: string }> {
  const server = await startTestServer({}, { serializeStreamEvents });
  try {
    const [alice, bob] = await Promise.all([signUp(server), signUp(server)]);
    const room = await roomWithMembers(alice, [bob]);
    const { room: current } = await bob.http.data(RoomCursorDocument, { id: room.id });
    const events = followRoom(server.wsUrl, bob, room.id, current!.cursor);
    const inbox = followInbox(server.wsUrl, bob, await inboxCursor(bob));
    try {
      const hello = (await alice.http.data(SendReplyDocument, { roomId: room.id, body: `hello @${bob.username}` })).sendMessage;
      const reply = (await bob.http.data(SendReplyDocument, { roomId: room.id, body: 'hi', replyToId: hello.id })).sendMessage;
      await alice.http.data(EditMessageDocument, { messageId: hello.id, body: `hello again @${bob.username}` });
      await alice.http.data(AddReactionDocument, { messageId: reply.id, emoji: '👍' });
      await bob.http.data(SetTypingDocument, { roomId: room.id, isTyping: true });
      await bob.http.data(MarkReadDocument, { roomId: room.id, seq: reply.seq });
      await alice.http.data(RenameRoomDocument, { roomId: room.id, name: 'renamed' });
      await alice.http.data(DeleteMessageDocument, { messageId: reply.id });
      const other = await roomWithMembers(alice, []);
      await alice.http.data(InviteToRoomDocument, { roomId: other.id, userId: bob.id });

      const roomEvents = [];
      for (;;) {
        const event = await events.next();
        if (event.__typename === 'TypingChanged') continue; // typing may also expire on its own: not part of the script
        roomEvents.push(event);
        if (event.__typename === 'MessageDeleted') break;
      }
      const inboxEvents = [await inbox.nextPersisted(), await inbox.nextPersisted()];
      const names = [alice.username, bob.username];
      return { room: normalized(roomEvents, names), inbox: normalized(inboxEvents, names) };
    } finally {
      await Promise.all([events.ws.dispose(), inbox.ws.dispose()]);
    }
  } finally {
    await server.stop();
  }
}

describe('what is published is plain data', () => {
  it('delivers the same payloads when every event crosses the bus as text, as between processes', async () => {
    const [direct, serialized] = await Promise.all([runScript(false), runScript(true)]);
    assert.equal(serialized.room, direct.room);
    assert.equal(serialized.inbox, direct.inbox);
    assert.match(direct.inbox, /Mentioned.*InvitedToRoom/);
    assert.match(direct.room, /MessageAdded.*MessageAdded.*MessageEdited.*ReactionChanged.*ReadReceipt.*RoomUpdated.*MessageDeleted/);
  });
});
