import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddReactionDocument,
  EditMessageDocument,
  MarkReadDocument,
  SendMessageDocument,
  SetTypingDocument,
} from './__generated__/graphql.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { ManualClock } from './helpers/manual-clock.js';
import { RawGraphQLWs } from './helpers/raw-graphql-ws.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** The selections both delivery paths must render identically. Each selects the message body (for the marker). */
const SELECTIONS: Record<string, { query: string; variables?: (roomId: string) => Record<string, unknown> }> = {
  plain: {
    query: `subscription ($roomId: ID!) { roomEvents(roomId: $roomId) { __typename seq cursor at
      ... on MessageAdded { message { id body seq cursor createdAt author { id username } room { id name lastSeq } } }
      ... on MessageEdited { message { id body editedAt } }
      ... on ReactionChanged { emoji added user { username } message { id } }
      ... on TypingChanged { isTyping user { id } }
      ... on ReadReceipt { lastReadSeq user { id } } } }`,
    variables: (roomId) => ({ roomId }),
  },
  aliasesAndFragments: {
    query: `subscription Aliased($r: ID!) { ev: roomEvents(roomId: $r) { kind: __typename n: seq ...Added ...Edited } }
      fragment Added on MessageAdded { m: message { ...Body who: author { name: username } } }
      fragment Edited on MessageEdited { m: message { ...Body } }
      fragment Body on Message { text: body at: createdAt }`,
    variables: (roomId) => ({ r: roomId }),
  },
  viewerDependent: {
    query: `subscription ($roomId: ID!) { roomEvents(roomId: $roomId) { __typename seq
      ... on MessageAdded { message { body reactions { emoji count reactedByMe } room { lastReadSeq unreadCount } } }
      ... on ReactionChanged { message { body reactions { emoji count reactedByMe } } }
      ... on ReadReceipt { lastReadSeq } } }`,
    variables: (roomId) => ({ roomId }),
  },
  messagesView: {
    query: `subscription ($roomId: ID!, $withRoom: Boolean!) { messageAdded(roomId: $roomId) {
      id body seq author { id } room @include(if: $withRoom) { id name } } }`,
    variables: (roomId) => ({ roomId, withRoom: true }),
  },
  inlineArgument: {
    query: 'ROOM_LITERAL',
  },
};

describe('grouped fan-out', () => {
  let server: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  const sockets: RawGraphQLWs[] = [];
  const open = async (user: TestUser, extra: Record<string, unknown> = {}) => {
    const ws = new RawGraphQLWs(server.wsUrl);
    sockets.push(ws);
    await ws.init({ authorization: `Bearer ${user.token}`, ...extra });
    return ws;
  };

  before(async () => {
    server = await startTestServer({}, { clock: new ManualClock() });
    [alice, bob, carol] = [await signUp(server), await signUp(server), await signUp(server)];
  });
  after(async () => {
    for (const ws of sockets) ws.close();
    await server.stop();
  });

  it('sends byte-for-byte the payloads plain per-subscriber graphql-ws execution sends, for a matrix of selections', async () => {
    const room = await roomWithMembers(alice, [bob, carol]);
    const selections = Object.entries(SELECTIONS).map(([name, s]) => ({
      name,
      query: s.query === 'ROOM_LITERAL' ? `subscription { roomEvents(roomId: "${room.id}") { __typename seq ... on MessageAdded { message { body } } } }` : s.query,
      variables: s.variables?.(room.id),
    }));
    // Each viewer subscribes every selection twice: grouped (the default) and per-subscriber, with the same ids.
    const streams: { viewer: TestUser; name: string; grouped: RawGraphQLWs; plain: RawGraphQLWs }[] = [];
    for (const viewer of [bob, carol]) {
      const grouped = await open(viewer);
      const plain = await open(viewer, { parleyDelivery: 'per-subscriber' });
      for (const s of selections) {
        grouped.subscribe(s.name, s.query, s.variables);
        plain.subscribe(s.name, s.query, s.variables);
        streams.push({ viewer, name: s.name, grouped, plain });
      }
    }
    // Probe until every subscription is live, then line them all up on one marker.
    const waitForMarker = async (marker: string) => {
      for (const { name, grouped, plain } of streams) {
        for (const ws of [grouped, plain]) while (!(await ws.queue(name).take(5000, `${name} marker`)).includes(marker));
      }
    };
    for (let attempt = 0; ; attempt++) {
      await alice.http.data(SendMessageDocument, { roomId: room.id, body: `probe-${attempt}` });
      const live = streams.every(({ name, grouped, plain }) => grouped.queue(name).size > 0 && plain.queue(name).size > 0);
      if (live) break;
      if (attempt > 50) assert.fail('subscriptions did not go live');
      await new Promise((resolve) => setTimeout(resolve, 50)); // bounded retry of the probe, not a synchronization point
    }
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'sync-marker' });
    await waitForMarker('sync-marker');
    const groupRendersBefore = server.stats().counters.groupRenders;

    // The events under comparison.
    const { sendMessage: first } = await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'first' });
    await bob.http.data(AddReactionDocument, { messageId: first.id, emoji: '🎉' });
    await alice.http.data(EditMessageDocument, { messageId: first.id, body: 'first, edited' });
    await carol.http.data(MarkReadDocument, { roomId: room.id, seq: first.seq });
    await alice.http.data(SetTypingDocument, { roomId: room.id, isTyping: true });
    await bob.http.data(SendMessageDocument, { roomId: room.id, body: 'end-marker' });

    const collected = new Map<string, string[]>();
    for (const { viewer, name, grouped, plain } of streams) {
      const collect = async (ws: RawGraphQLWs) => {
        const frames: string[] = [];
        do frames.push(await ws.queue(name).take(5000, `${name} frames`));
        while (!frames.at(-1)!.includes('end-marker'));
        return frames;
      };
      const [g, p] = [await collect(grouped), await collect(plain)];
      assert.deepEqual(g, p, `${name} as ${viewer.username}`);
      assert.ok(g.length >= 2, `${name}: ${g.length} frames`);
      collected.set(`${name}/${viewer.username}`, g);
    }
    const reactedByMe = (frames: string[]) => frames.map((f) => /"reactedByMe":(true|false)/.exec(f)?.[1]).filter(Boolean);
    assert.ok(reactedByMe(collected.get(`viewerDependent/${bob.username}`)!).includes('true'));
    assert.ok(!reactedByMe(collected.get(`viewerDependent/${carol.username}`)!).includes('true'));
    assert.deepEqual(collected.get(`plain/${bob.username}`), collected.get(`plain/${carol.username}`));
    // Executions equal the distinct groups per event: 4 shared selections (+1 per viewer for the viewer-dependent
    // one); the messageAdded view renders only for the two new messages.
    //   MessageAdded ×2: 4 + 2 = 6 each; ReactionChanged, MessageEdited, ReadReceipt, TypingChanged: 3 + 2 = 5 each.
    assert.equal(server.stats().counters.groupRenders - groupRendersBefore, 2 * 6 + 4 * 5);
  });

  it('frames operation ids with quotes and characters beyond ASCII byte-for-byte as graphql-ws does', async () => {
    const room = await roomWithMembers(alice, [bob]);
    const start = (await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'start' })).sendMessage;
    const query = 'subscription ($roomId: ID!, $after: String) { messageAdded(roomId: $roomId, after: $after) { seq body } }';
    const ids = ['ü→"🎉"\\', 'plain-id'];
    const grouped = await open(bob);
    const plain = await open(bob, { parleyDelivery: 'per-subscriber' });
    for (const ws of [grouped, plain]) for (const id of ids) ws.subscribe(id, query, { roomId: room.id, after: start.cursor });
    await alice.http.data(SendMessageDocument, { roomId: room.id, body: 'héllo 👋' });
    for (const id of ids) {
      const [g, p] = [await grouped.queue(id).take(5000, `${id} grouped`), await plain.queue(id).take(5000, `${id} plain`)];
      assert.equal(g, p);
      assert.equal((JSON.parse(g) as { id: string }).id, id);
      assert.match(g, /"body":"héllo 👋"/);
    }
  });

  it('answers refusals, completes and duplicate ids on the grouped path exactly as graphql-ws does', async () => {
    const hidden = await roomWithMembers(alice, []);
    const query = 'subscription ($roomId: ID!) { messageAdded(roomId: $roomId) { body } }';
    const refusal = async (ws: RawGraphQLWs) => {
      const next = await ws.subscribe('x', query, { roomId: hidden.id }).take(5000, 'the refusal');
      return { next, after: await ws.control.take(5000, 'complete') };
    };
    const grouped = await open(bob);
    const plain = await open(bob, { parleyDelivery: 'per-subscriber' });
    const [g, p] = [await refusal(grouped), await refusal(plain)];
    assert.deepEqual(g, p);
    assert.match(g.next, /"code":"FORBIDDEN"/);
    assert.deepEqual(g.after, { id: 'x', type: 'complete' });

    // A completed subscription receives nothing more, and its id can be used again. Subscriptions resume from a
    // cursor here, so each receives the next message whether it was live before it was sent or not.
    const room = await roomWithMembers(alice, [bob]);
    const send = async (body: string) => (await alice.http.data(SendMessageDocument, { roomId: room.id, body })).sendMessage;
    const start = await send('start');
    const first = grouped.subscribe('s', `subscription ($roomId: ID!, $after: String) { messageAdded(roomId: $roomId, after: $after) { body } }`, { roomId: room.id, after: start.cursor });
    await send('one');
    assert.match(await first.take(5000, 'one'), /"body":"one"/);
    grouped.complete('s');
    const two = await send('two');
    const again = grouped.subscribe('s', `subscription ($roomId: ID!, $after: String) { messageAdded(roomId: $roomId, after: $after) { seq body } }`, { roomId: room.id, after: two.cursor });
    await send('three');
    assert.match(await again.take(5000, 'three'), /"seq":\d+,"body":"three"/); // the new selection: "two" went to nobody
    assert.equal(again.size, 0);

    // A second subscribe with a live id closes the socket with 4409.
    grouped.subscribe('s', query, { roomId: room.id });
    assert.deepEqual(await grouped.closed, { code: 4409, reason: 'Subscriber for s already exists' });
  });
});

