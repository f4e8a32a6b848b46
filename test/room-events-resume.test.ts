import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddReactionDocument,
  DeleteMessageDocument,
  EditMessageDocument,
  HistoryDocument,
  RemoveReactionDocument,
  SendMessageDocument,
} from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { ManualClock } from './helpers/manual-clock.js';
import { followRoom, type EventFollower, type RoomEventResult } from './helpers/room-events.js';
import { seededRandom } from './helpers/seeded-random.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import type { TestWsClient } from './helpers/ws-client.js';
import { waitUntilLiveWith } from './helpers/ws-client.js';

/** A message as a client rebuilds it from events. */
interface RebuiltMessage {
  body: string;
  deleted: boolean;
  reactions: Map<string, Set<string>>;
}

/** Applies one event to the rebuilt state, as a chat client would. */
function apply(state: Map<string, RebuiltMessage>, event: RoomEventResult): void {
  switch (event.__typename) {
    case 'MessageAdded':
    case 'MessageEdited':
    case 'MessageDeleted': {
      const current = state.get(event.message.id) ?? { body: '', deleted: false, reactions: new Map() };
      current.body = event.message.body;
      current.deleted = event.message.deletedAt !== null;
      if (current.deleted) current.reactions.clear();
      state.set(event.message.id, current);
      break;
    }
    case 'ReactionChanged': {
      const reactions = state.get(event.message.id)!.reactions;
      const users = reactions.get(event.emoji) ?? new Set<string>();
      if (event.added) users.add(event.user!.id);
      else users.delete(event.user!.id);
      if (users.size > 0) reactions.set(event.emoji, users);
      else reactions.delete(event.emoji);
      break;
    }
    default:
      break;
  }
}

describe('resuming the room event stream', () => {
  let server: TestServer;
  let writers: TestUser[];
  let reader: TestUser;
  const sockets: TestWsClient[] = [];
  const follow = (roomId: string, after?: string): EventFollower => {
    const follower = followRoom(server.wsUrl, reader, roomId, after);
    sockets.push(follower.ws);
    return follower;
  };

  before(async () => {
    server = await startTestServer({ REPLAY_LIMIT: '5000' }, { clock: new ManualClock() });
    writers = [await signUp(server), await signUp(server), await signUp(server), await signUp(server)];
    reader = await signUp(server);
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server.stop();
  });

  it('survives three drops while 4 clients send, edit, delete and react: the log once each, in order, and the same state as history', async () => {
    const [owner] = writers as [TestUser];
    const room = await roomWithMembers(owner, [...writers.slice(1), reader]);
    let follower = follow(room.id);
    const probe = () => owner.http.data(SendMessageDocument, { roomId: room.id, body: 'probe' });
    const first = await waitUntilLiveWith(follower.sub.results, (d) => d.roomEvents, probe);
    const received: RoomEventResult[] = [first];

    const messageIds: string[] = [];
    const mine = new Map<TestUser, string[]>(writers.map((w) => [w, []]));
    const work = writers.map(async (writer, w) => {
      const next = seededRandom(w + 1);
      for (let i = 0; i < 40; i++) {
        const roll = next();
        const own = mine.get(writer)!;
        const anyId = messageIds[Math.floor(next() * messageIds.length)];
        const emoji = ['👍', '🎉', ':tada:'][Math.floor(next() * 3)]!;
        // Some operations hit deleted messages and are refused (BAD_USER_INPUT); that is part of the mix.
        if (roll < 0.45 || own.length === 0) {
          const { sendMessage } = await writer.http.data(SendMessageDocument, { roomId: room.id, body: `w${w} #${i}` });
          own.push(sendMessage.id);
          messageIds.push(sendMessage.id);
        } else if (roll < 0.6) {
          await writer.http.request(EditMessageDocument, { messageId: own[Math.floor(next() * own.length)]!, body: `w${w} edit ${i}` });
        } else if (roll < 0.7) {
          await writer.http.request(DeleteMessageDocument, { messageId: own[Math.floor(next() * own.length)]! });
        } else if (roll < 0.9 && anyId) {
          await writer.http.request(AddReactionDocument, { messageId: anyId, emoji });
        } else if (anyId) {
          await writer.http.request(RemoveReactionDocument, { messageId: anyId, emoji });
        }
      }
    });
    const allDone = Promise.all(work).then(() => owner.http.data(SendMessageDocument, { roomId: room.id, body: 'final' }));

    const dropAt = new Set([25, 60, 100]);
    let drops = 0;
    for (;;) {
      const event = await follower.next(15_000);
      received.push(event);
      if (event.__typename === 'MessageAdded' && event.message.body === 'final') break;
      if (dropAt.has(received.length)) {
        follower.ws.drop();
        await follower.ws.closed;
        drops++;
        follower = follow(room.id, received.at(-1)!.cursor!);
      }
    }
    await allDone;
    assert.equal(drops, 3);

    const log = await server.sql<{ seq: number }>('SELECT seq FROM room_events WHERE room_id = $1 AND seq >= $2 ORDER BY seq', [room.id, first.seq]);
    assert.deepEqual(received.map((e) => e.seq), log.map((r) => r.seq));
    assert.ok(log.length > 100, `only ${log.length} events were logged`);

    const rebuilt = new Map<string, RebuiltMessage>();
    for (const event of received) apply(rebuilt, event);
    const history = new Map<string, { body: string; deleted: boolean; reactions: Record<string, number> }>();
    let after: string | null | undefined;
    for (;;) {
      const { messages } = await reader.http.data(HistoryDocument, { roomId: room.id, first: 100, after });
      for (const { node } of messages.edges) {
        history.set(node.id, { body: node.body, deleted: node.deletedAt !== null, reactions: Object.fromEntries(node.reactions.map((r) => [r.emoji, r.count])) });
        assert.ok(node.reactions.every((r) => !r.reactedByMe)); // the reader never reacted
      }
      if (!messages.pageInfo.hasNextPage) break;
      after = messages.pageInfo.endCursor;
    }
    for (const [id, state] of rebuilt) {
      assert.deepEqual(
        { body: state.body, deleted: state.deleted, reactions: Object.fromEntries([...state.reactions].map(([e, users]) => [e, users.size])) },
        history.get(id),
        `message ${id}`,
      );
    }
    assert.ok([...rebuilt.values()].some((m) => m.deleted) && [...rebuilt.values()].some((m) => m.reactions.size > 0));
  });
});

describe('resuming too far behind', () => {
  let server: TestServer;
  let owner: TestUser;
  const sockets: TestWsClient[] = [];
  before(async () => {
    server = await startTestServer({ REPLAY_LIMIT: '5' }, { clock: new ManualClock() });
    owner = await signUp(server);
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server.stop();
  });

  it('sends ResyncRequired instead of replaying more than REPLAY_LIMIT events, then continues live', async () => {
    const room = await roomWithMembers(owner, []);
    const sent = [];
    for (let i = 1; i <= 10; i++) sent.push((await owner.http.data(SendMessageDocument, { roomId: room.id, body: `m${i}` })).sendMessage);
    const latest = sent.at(-1)!.seq;

    const behind = followRoom(server.wsUrl, owner, room.id, sent[0]!.cursor); // 9 events behind
    sockets.push(behind.ws);
    const resync = await behind.next();
    assert.equal(resync.__typename, 'ResyncRequired');
    assert.ok(resync.__typename === 'ResyncRequired' && resync.lastSeq === latest && resync.seq === null);
    await owner.http.data(SendMessageDocument, { roomId: room.id, body: 'live' });
    const live = await behind.next();
    assert.ok(live.__typename === 'MessageAdded' && live.seq === latest + 1 && live.message.body === 'live');

    // The resync cursor resumes from lastSeq: only what came after it is replayed.
    const fromResync = followRoom(server.wsUrl, owner, room.id, resync.cursor!);
    sockets.push(fromResync.ws);
    assert.equal((await fromResync.next()).seq, latest + 1);

    // Within the limit the replay happens as usual.
    const near = followRoom(server.wsUrl, owner, room.id, sent[6]!.cursor); // 4 events behind
    sockets.push(near.ws);
    assert.deepEqual([await near.next(), await near.next(), await near.next(), await near.next()].map((e) => e.seq), [
      latest - 2,
      latest - 1,
      latest,
      latest + 1,
    ]);
  });
});
