// Every change to a room takes one path: lock the room, check access under the lock, apply, log, publish after
// commit. These tests force the interleavings that path exists for.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  AddReactionDocument,
  DeleteMessageDocument,
  EditMessageDocument,
  HistoryDocument,
  RemoveMemberDocument,
  RemoveReactionDocument,
  RoomCursorDocument,
  RoomEventStatesDocument,
  SendMessageDocument,
  type RoomEventStatesSubscription,
} from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { waitForLockWaiters } from './helpers/lock-waiters.js';
import { seededRandom } from './helpers/seeded-random.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { connectWs } from './helpers/ws-client.js';

describe('a change racing the removal of its author', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  const changes = {
    edit: (member: TestUser, messageId: string, _roomId: string) => member.http.request(EditMessageDocument, { messageId, body: 'written after removal' }),
    delete: (member: TestUser, messageId: string) => member.http.request(DeleteMessageDocument, { messageId }),
    react: (member: TestUser, messageId: string) => member.http.request(AddReactionDocument, { messageId, emoji: '👍' }),
    send: (member: TestUser, _messageId: string, roomId: string) => member.http.request(SendMessageDocument, { roomId, body: 'written after removal' }),
  };
  for (const [label, change] of Object.entries(changes)) {
    it(`${label}: checked after the removal committed, it is FORBIDDEN and nothing is logged after MemberLeft`, async () => {
      const owner = await signUp(server);
      const member = await signUp(server);
      const room = await roomWithMembers(owner, [member]);
      const message = (await member.http.data(SendMessageDocument, { roomId: room.id, body: 'before removal' })).sendMessage;

      // Hold the room's lock, queue the removal behind it, then the member's change behind the removal.
      const holder = new pg.Client({ connectionString: server.databaseUrl });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM rooms WHERE id = $1 FOR UPDATE', [room.id]);
        const removal = owner.http.request(RemoveMemberDocument, { roomId: room.id, userId: member.id });
        await waitForLockWaiters(server, 1);
        const changed = change(member, message.id, room.id);
        await waitForLockWaiters(server, 2);
        await holder.query('COMMIT');

        assert.equal((await removal).data?.removeMember, true);
        const response = await changed;
        assert.deepEqual(errorCodes(response), ['FORBIDDEN'], JSON.stringify(response));
      } finally {
        await holder.end();
      }
      const log = await server.sql<{ seq: number; kind: string }>('SELECT seq, kind FROM room_events WHERE room_id = $1 ORDER BY seq', [room.id]);
      assert.equal(log.at(-1)?.kind, 'MEMBER_REMOVED', `the removal is the last event: ${JSON.stringify(log)}`);
      const [stored] = await server.sql<{ body: string; deleted_at: Date | null }>('SELECT body, deleted_at FROM messages WHERE id = $1', [message.id]);
      assert.deepEqual(stored, { body: 'before removal', deleted_at: null });
      assert.deepEqual(await server.sql('SELECT body FROM messages WHERE room_id = $1', [room.id]), [{ body: 'before removal' }]);
      assert.deepEqual(await server.sql('SELECT 1 FROM message_reactions WHERE message_id = $1', [message.id]), []);
    });
  }
});

type StateEvent = RoomEventStatesSubscription['roomEvents'];

describe('live payloads under concurrent edits and reactions', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  it('carry each message exactly as it was at the event’s own seq (body and reactions)', async () => {
    const owner = await signUp(server);
    const writers = await Promise.all([signUp(server), signUp(server), signUp(server)]);
    const room = await roomWithMembers(owner, writers);
    const messages = await Promise.all(
      writers.map(async (writer, i) => (await writer.http.data(SendMessageDocument, { roomId: room.id, body: `writer ${i}: 0` })).sendMessage),
    );
    const { room: read } = await owner.http.data(RoomCursorDocument, { id: room.id });
    const ws = connectWs(server.wsUrl, { authorization: `Bearer ${owner.token}` });
    const sub = ws.subscribe(RoomEventStatesDocument, { roomId: room.id, after: read!.cursor });

    // Each writer edits its own message and reacts to everyone's, all writers at once.
    const issuedBodies = new Map<string, string[]>(messages.map((m) => [m.id, [m.body]]));
    const emoji = ['👍', '🎉', ':ship:'];
    await Promise.all(
      writers.map(async (writer, w) => {
        const next = seededRandom(w + 1);
        for (let op = 1; op <= 40; op++) {
          if (next() < 0.35) {
            const body = `writer ${w}: ${op}`;
            issuedBodies.get(messages[w]!.id)!.push(body);
            await writer.http.data(EditMessageDocument, { messageId: messages[w]!.id, body });
          } else {
            const messageId = messages[Math.floor(next() * messages.length)]!.id;
            const add = next() < 0.6;
            const args = { messageId, emoji: emoji[Math.floor(next() * emoji.length)]! };
            await (add ? writer.http.data(AddReactionDocument, args) : writer.http.data(RemoveReactionDocument, args));
          }
        }
      }),
    );
    const { room: end } = await owner.http.data(RoomCursorDocument, { id: room.id });

    const received: StateEvent[] = [];
    while ((received.at(-1)?.seq ?? read!.lastSeq) < end!.lastSeq) {
      const result = await sub.results.take(10_000, 'the next event');
      assert.ok(result.data, JSON.stringify(result.errors));
      received.push(result.data.roomEvents);
    }
    await ws.dispose();
    assert.deepEqual(
      received.map((e) => e.seq),
      Array.from({ length: end!.lastSeq - read!.lastSeq }, (_, i) => read!.lastSeq + i + 1),
      'every event once, in seq order',
    );

    // The truth, from the log order alone: bodies in the order each author issued them, reactions from the
    // ReactionChanged events' own emoji, user and added.
    const body = new Map(messages.map((m) => [m.id, m.body]));
    const editedBodies = new Map<string, string[]>(messages.map((m) => [m.id, [m.body]]));
    const reactions = new Map(messages.map((m) => [m.id, new Map<string, Set<string>>()]));
    let reactionEvents = 0;
    for (const event of received) {
      if (event.__typename === 'MessageEdited') {
        body.set(event.message.id, event.message.body);
        editedBodies.get(event.message.id)!.push(event.message.body);
      }
      if (event.__typename === 'ReactionChanged') {
        reactionEvents++;
        const users = reactions.get(event.message.id)!.get(event.emoji) ?? new Set<string>();
        if (event.added) users.add(event.user!.id);
        else users.delete(event.user!.id);
        reactions.get(event.message.id)!.set(event.emoji, users);
      }
      if (event.__typename !== 'MessageEdited' && event.__typename !== 'ReactionChanged') continue;
      const { message } = event;
      assert.equal(message.body, body.get(message.id), `seq ${event.seq} (${event.__typename}) carries the body as of its seq`);
      const expected = [...reactions.get(message.id)!].filter(([, users]) => users.size > 0).map(([e, users]) => [e, users.size]);
      assert.deepEqual(
        new Map(message.reactions.map((r) => [r.emoji, r.count])),
        new Map(expected as [string, number][]),
        `seq ${event.seq} (${event.__typename}) carries the reactions as of its seq`,
      );
    }
    assert.deepEqual(editedBodies, issuedBodies, 'each message’s edits arrive in the order its author made them');
    // The live events' reactions (from snapshots taken under the lock) list what history (from SQL) lists, in order.
    const history = (await owner.http.data(HistoryDocument, { roomId: room.id, first: 10 })).messages.edges.map((e) => e.node);
    for (const message of messages) {
      const lastLive = received.findLast((e) => 'message' in e && e.message?.id === message.id) as { message: { reactions: unknown[] } } | undefined;
      const stored = history.find((m) => m.id === message.id)!;
      assert.deepEqual(lastLive?.message.reactions.map((r) => JSON.stringify(r)), stored.reactions.map((r) => JSON.stringify({ emoji: r.emoji, count: r.count })));
    }
    assert.ok(reactionEvents > 30, `enough reaction changes to race (${reactionEvents})`);
  });
});
