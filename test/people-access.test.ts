// The access matrix for what issue 10 added: a private room of others and a DM of others answer every new
// operation exactly as an id that does not exist does (same code, same message), and nothing new leaks them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  HideRoomDocument,
  JoinRoomDocument,
  MarkReadDocument,
  MessagesDocument,
  OpenDirectRoomDocument,
  PublicRoomsDocument,
  RoomPeopleDocument,
  SendMessageDocument,
  SetTypingDocument,
} from './__generated__/graphql.js';
import { createRoom, signUp, type TestUser } from './helpers/fixtures.js';
import type { GraphQLResponse } from './helpers/http-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('access to what people features added', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  before(async () => {
    server = await startTestServer();
    [alice, bob, mallory] = await Promise.all([signUp(server), signUp(server), signUp(server)]);
  });
  after(() => server.stop());

  const answer = (response: GraphQLResponse<unknown>) => ({
    data: response.data ?? null,
    errors: (response.errors ?? []).map((e) => ({ code: e.extensions?.['code'], message: e.message })),
  });

  it('answers for a private room or DM of others exactly as for a room that does not exist', async () => {
    const secret = await createRoom(alice, 'PRIVATE', 'secret plans');
    const dm = (await alice.http.data(OpenDirectRoomDocument, { userId: bob.id })).openDirectRoom;
    await alice.http.data(SendMessageDocument, { roomId: dm.id, body: 'psst' });
    const operations = {
      hideRoom: (roomId: string) => mallory.http.request(HideRoomDocument, { roomId }),
      joinRoom: (roomId: string) => mallory.http.request(JoinRoomDocument, { roomId }),
      messages: (roomId: string) => mallory.http.request(MessagesDocument, { roomId }),
      sendMessage: (roomId: string) => mallory.http.request(SendMessageDocument, { roomId, body: 'hi' }),
      setTyping: (roomId: string) => mallory.http.request(SetTypingDocument, { roomId, isTyping: true }),
      markRead: (roomId: string) => mallory.http.request(MarkReadDocument, { roomId, seq: 1 }),
      roomWithMembers: (roomId: string) => mallory.http.request(RoomPeopleDocument, { id: roomId }),
    };
    for (const [name, run] of Object.entries(operations)) {
      const missing = answer(await run(randomUUID()));
      assert.ok(missing.errors.length > 0 || missing.data !== null, name);
      for (const [label, roomId] of [['private room', secret.id], ['DM of others', dm.id]] as const) {
        assert.deepEqual(answer(await run(roomId)), missing, `${name} on a ${label}`);
      }
    }
    const listed = (await mallory.http.data(PublicRoomsDocument, { search: 'secret' })).publicRooms.edges;
    assert.deepEqual(listed, [], 'the directory lists no private room');
    const dmListed = (await mallory.http.data(PublicRoomsDocument, { first: 50 })).publicRooms.edges.filter((e) => e.node.id === dm.id);
    assert.deepEqual(dmListed, [], 'nor a DM');
  });
});
