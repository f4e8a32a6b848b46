import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  MessageAddedDocument,
  MessagesDocument,
  RoomCursorDocument,
  RoomEventsDocument,
  SendMessageDocument,
} from './__generated__/graphql.js';
import { createRoom, roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { encodeCursor } from '../src/domain/cursor.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { connectWs, type TestWsClient } from './helpers/ws-client.js';

/** A well-formed cursor of any seq, as the server encodes them (opaque to clients; no server hands out one ahead). */
const forgedCursor = encodeCursor;

describe('Room.cursor: subscribe after what you read, and miss nothing', () => {
  let server: TestServer;
  let owner: TestUser;
  let reader: TestUser;
  let ws: TestWsClient;
  before(async () => {
    server = await startTestServer();
    owner = await signUp(server);
    reader = await signUp(server);
    ws = connectWs(server.wsUrl, { authorization: `Bearer ${reader.token}` });
    await ws.connected;
  });
  after(async () => {
    await ws.dispose();
    await server.stop();
  });

  it('is the cursor of lastSeq, valid for an empty room, and the first message after it arrives', async () => {
    const room = await createRoom(owner);
    const { room: read } = await owner.http.data(RoomCursorDocument, { id: room.id });
    assert.equal(read!.lastSeq, 0);
    const ownerWs = connectWs(server.wsUrl, { authorization: `Bearer ${owner.token}` });
    try {
      const ownSub = ownerWs.subscribe(MessageAddedDocument, { roomId: room.id, after: read!.cursor });
      const sent = (await owner.http.data(SendMessageDocument, { roomId: room.id, body: 'first' })).sendMessage;
      const first = await ownSub.results.take(5000, 'the first message');
      assert.equal(first.data?.messageAdded.id, sent.id);
      assert.equal(first.data?.messageAdded.seq, 1);
    } finally {
      await ownerWs.dispose();
    }
  });

  for (const view of ['roomEvents', 'messageAdded'] as const) {
    it(`${view}: 50 subscribe-then-send-at-once rounds with Room.cursor lose no first message`, async () => {
      const room = await roomWithMembers(owner, [reader]);
      for (let round = 0; round < 50; round++) {
        const { room: read } = await reader.http.data(RoomCursorDocument, { id: room.id });
        const sub =
          view === 'roomEvents'
            ? ws.subscribe(RoomEventsDocument, { roomId: room.id, after: read!.cursor })
            : ws.subscribe(MessageAddedDocument, { roomId: room.id, after: read!.cursor });
        // Sent at once: the server may not have started listening yet.
        const sent = (await owner.http.data(SendMessageDocument, { roomId: room.id, body: `round ${round}` })).sendMessage;
        const result = await sub.results.take(5000, `round ${round}'s message`);
        const data = result.data as Record<string, { seq?: number | null; id?: string; message?: { id: string } }> | undefined;
        const received = data?.[view];
        assert.equal(received?.seq, sent.seq, `round ${round}: the first event is the message sent right after subscribing`);
        assert.equal(view === 'roomEvents' ? received?.message?.id : received?.id, sent.id);
        sub.unsubscribe();
      }
    });
  }
});

describe('a cursor ahead of the room', () => {
  let server: TestServer;
  let owner: TestUser;
  let ws: TestWsClient;
  let roomId: string;
  before(async () => {
    server = await startTestServer();
    owner = await signUp(server);
    roomId = (await createRoom(owner)).id;
    await owner.http.data(SendMessageDocument, { roomId, body: 'the only message' }); // lastSeq 1
    ws = connectWs(server.wsUrl, { authorization: `Bearer ${owner.token}` });
    await ws.connected;
  });
  after(async () => {
    await ws.dispose();
    await server.stop();
  });

  for (const view of ['roomEvents', 'messageAdded'] as const) {
    it(`is refused by ${view} with BAD_USER_INPUT instead of waiting silently`, async () => {
      const document = view === 'roomEvents' ? RoomEventsDocument : MessageAddedDocument;
      const sub = ws.subscribe(document as typeof RoomEventsDocument, { roomId, after: forgedCursor(roomId, 999_999) });
      const first = await sub.results.take(5000, 'the refusal');
      assert.deepEqual(errorCodes(first), ['BAD_USER_INPUT']);
      assert.match(first.errors![0]!.message, /ahead of the room/);
      assert.equal(first.errors![0]!.extensions?.['argumentName'], 'after');
      assert.deepEqual(await sub.ended, { kind: 'complete' });
    });
  }

  it('is accepted at exactly lastSeq', async () => {
    const sub = ws.subscribe(RoomEventsDocument, { roomId, after: forgedCursor(roomId, 1) });
    const sent = (await owner.http.data(SendMessageDocument, { roomId, body: 'next' })).sendMessage;
    const first = await sub.results.take(5000, 'the next message');
    assert.equal(first.data?.roomEvents.seq, sent.seq);
    sub.unsubscribe();
  });

  for (const argument of ['after', 'before'] as const) {
    it(`is refused by history as \`${argument}\` with BAD_USER_INPUT`, async () => {
      const response = await owner.http.request(MessagesDocument, { roomId, [argument]: forgedCursor(roomId, 999_999) });
      assert.deepEqual(errorCodes(response), ['BAD_USER_INPUT']);
      assert.match(response.errors![0]!.message, /ahead of the room/);
      assert.equal(response.errors![0]!.extensions?.['argumentName'], argument);
    });
  }
});
