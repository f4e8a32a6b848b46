// The grouped fan-out renders an event once for every subscriber with the same document unless the document
// selects a field marked @viewerDependent in schema.graphql. This test holds the schema to that: it selects every
// unmarked field reachable from each room event, has two different viewers' subscriptions executed one by one,
// and requires equal results. A viewer-dependent field someone forgets to mark fails here instead of showing one
// user's view to a whole group.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getNamedType, isInterfaceType, isLeafType, isNonNullType, isObjectType, parse, type GraphQLNamedType } from 'graphql';
import { buildSchema } from '../src/graphql/schema.js';
import { fieldsWithDirective } from '../src/graphql/schema-directives.js';
import {
  AddReactionDocument,
  DeleteMessageDocument,
  EditMessageDocument,
  InviteToRoomDocument,
  JoinRoomDocument,
  MarkReadDocument,
  RemoveMemberDocument,
  RenameRoomDocument,
  RoomCursorDocument,
  SendMessageDocument,
  SendReplyDocument,
  SetTypingDocument,
} from './__generated__/graphql.js';
import { createRoom, signUp, type TestUser } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { connectWs, type TestSubscription, type TestWsClient } from './helpers/ws-client.js';

const schema = buildSchema();
const viewerDependent = fieldsWithDirective(schema, 'viewerDependent');

/** Every unmarked field of `type` without required arguments, objects followed `depth` levels further. */
function selectAll(type: GraphQLNamedType, depth: number): string {
  if (!isObjectType(type) && !isInterfaceType(type)) return '';
  const fields = Object.values(type.getFields()).flatMap((field) => {
    if (viewerDependent.has(`${type.name}.${field.name}`)) return [];
    if (field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined)) return [];
    const named = getNamedType(field.type);
    if (isLeafType(named)) return [field.name];
    return depth > 0 ? [`${field.name} { __typename ${selectAll(named, depth - 1)} }`] : [];
  });
  return fields.join(' ');
}

// ResyncRequired is left out: it is only sent when a subscription starts, and its `at` is that moment.
const eventTypes = schema.getPossibleTypes(schema.getType('RoomEvent') as never).filter((t) => t.name !== 'ResyncRequired');
const documents = Object.fromEntries(
  eventTypes.map((type) => [
    type.name,
    parse(`subscription ($roomId: ID!, $after: String) { roomEvents(roomId: $roomId, after: $after) { __typename ... on ${type.name} { ${selectAll(type, 2)} } } }`),
  ]),
);
/** A selection with a marked field, to show the comparison itself can tell two viewers apart. */
const marked = parse(
  'subscription ($roomId: ID!, $after: String) { roomEvents(roomId: $roomId, after: $after) { __typename ... on ReactionChanged { message { reactions { emoji reactedByMe } } } } }',
);

describe('fields not marked @viewerDependent', () => {
  let server: TestServer;
  const sockets: TestWsClient[] = [];
  before(async () => (server = await startTestServer()));
  after(async () => {
    for (const socket of sockets) await socket.dispose();
    await server.stop();
  });

  it('render the same for two different viewers, for every room event type', async () => {
    const [owner, alice, bob, xavier, yvonne] = await Promise.all([signUp(server), signUp(server), signUp(server), signUp(server), signUp(server)]);
    const room = await createRoom(owner!);
    for (const member of [alice!, bob!]) await member.http.data(JoinRoomDocument, { roomId: room.id });
    const { room: read } = await owner!.http.data(RoomCursorDocument, { id: room.id });

    // Each viewer's subscriptions are executed one by one (the diagnostic per-subscriber path), never shared.
    const subscribeAll = (viewer: TestUser) => {
      const ws = connectWs(server.wsUrl, { authorization: `Bearer ${viewer.token}`, parleyDelivery: 'per-subscriber' });
      sockets.push(ws);
      const variables = { roomId: room.id, after: read!.cursor };
      const subs: Record<string, TestSubscription<unknown>> = {};
      for (const [name, document] of Object.entries(documents)) subs[name] = ws.subscribe(document as never, variables);
      subs['marked'] = ws.subscribe(marked as never, variables);
      return subs;
    };
    const views = [subscribeAll(alice!), subscribeAll(bob!)];

    // One event of every kind (but ResyncRequired), all visible to both viewers. Each is awaited by every
    // subscription before the next change: fields read at render time (a room's lastSeq) then agree.
    const received = views.map((subs) => Object.fromEntries(Object.keys(subs).map((name) => [name, [] as unknown[]])));
    const step = async (change: () => Promise<unknown>) => {
      await change();
      await Promise.all(
        views.flatMap((subs, v) => Object.entries(subs).map(async ([name, sub]) => received[v]![name]!.push(await sub.results.take(10_000, name)))),
      );
    };
    const o = owner!.http;
    let first!: { id: string; seq: number };
    let reply!: { id: string };
    await step(async () => (first = (await o.data(SendMessageDocument, { roomId: room.id, body: 'first' })).sendMessage));
    await step(async () => (reply = (await o.data(SendReplyDocument, { roomId: room.id, body: 'reply', replyToId: first.id })).sendMessage));
    await step(() => alice!.http.data(AddReactionDocument, { messageId: first.id, emoji: '👍' }));
    await step(() => o.data(EditMessageDocument, { messageId: first.id, body: 'first, edited' }));
    await step(() => o.data(RenameRoomDocument, { roomId: room.id, name: 'renamed' }));
    await step(() => xavier!.http.data(JoinRoomDocument, { roomId: room.id }));
    await step(() => o.data(InviteToRoomDocument, { roomId: room.id, userId: yvonne!.id }));
    await step(() => o.data(RemoveMemberDocument, { roomId: room.id, userId: xavier!.id }));
    await step(() => o.data(DeleteMessageDocument, { messageId: reply.id }));
    await step(() => o.data(SetTypingDocument, { roomId: room.id, isTyping: true }));
    await step(() => o.data(MarkReadDocument, { roomId: room.id, seq: first.seq }));

    const [alices, bobs] = received as [Record<string, unknown[]>, Record<string, unknown[]>];
    const kinds = new Set((alices['MessageAdded'] as { data: { roomEvents: { __typename: string } } }[]).map((r) => r.data.roomEvents.__typename));
    assert.deepEqual([...kinds].sort(), eventTypes.map((t) => t.name).sort(), 'every event type was rendered');
    for (const type of eventTypes) {
      for (const result of alices[type.name]!) assert.equal((result as { errors?: unknown }).errors, undefined, JSON.stringify(result));
      assert.deepEqual(alices[type.name], bobs[type.name], `${type.name}: every unmarked field renders the same for both viewers`);
    }
    assert.notDeepEqual(alices['marked'], bobs['marked'], 'a marked field does differ, so the comparison can fail');
  });
});
