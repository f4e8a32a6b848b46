import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InviteToRoomDocument, MarkReadDocument, MeDocument, SendMessageDocument, SetTypingDocument, SignOutDocument } from './__generated__/graphql.js';
import { followInbox } from './helpers/inbox.js';
import { createRoom, roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { errorCodes } from './helpers/http-client.js';
import { startProcessGroup, type ProcessGroup } from './helpers/process-group.js';
import { followRoom, waitUntilAllLive, type EventFollower, type RoomEventResult } from './helpers/room-events.js';
import { connectWs, type TestWsClient } from './helpers/ws-client.js';
import type { TestServer } from './helpers/test-server.js';

// Processes sharing one database hear each other's events through the bus (BUS=postgres: LISTEN/NOTIFY). The
// third kind of process here, BUS=off, stores events and tells nobody: what it writes reaches the others only by
// gap healing, as the events of a process that died between its commit and its hint would.
describe('several processes on one database (BUS=postgres)', () => {
  let group: ProcessGroup;
  let a: TestServer;
  let b: TestServer;
  let c: TestServer;
  let silent: TestServer;
  const sockets: TestWsClient[] = [];
  const follow = (server: TestServer, user: TestUser, roomId: string, after?: string): EventFollower => {
    const follower = followRoom(server.wsUrl, user, roomId, after);
    sockets.push(follower.ws);
    return follower;
  };
  const send = async (server: TestServer, user: TestUser, roomId: string, body: string) =>
    (await group.on(server, user).http.data(SendMessageDocument, { roomId, body })).sendMessage;
  /** Every event of `follower` up to and including seq `last`, failing on a duplicate or a step back. */
  const eventsUntil = async (follower: EventFollower, last: number, timeoutMs = 10_000): Promise<RoomEventResult[]> => {
    const events: RoomEventResult[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = await follower.next(Math.max(1, deadline - Date.now()));
      if (event.__typename === 'TypingChanged' || event.__typename === 'ReadReceipt') continue;
      const previous = events.at(-1)?.seq;
      if (previous != null && event.__typename !== 'ResyncRequired') assert.equal(event.seq, previous + 1, `gap or duplicate after seq ${previous}`);
      events.push(event);
      if ((event.seq ?? 0) >= last) return events;
    }
  };

  before(async () => {
    group = await startProcessGroup();
    a = await group.start({ BUS: 'postgres', BUS_CHECK_INTERVAL: '1h' });
    b = await group.start({ BUS: 'postgres', BUS_CHECK_INTERVAL: '1h' });
    c = await group.start({ BUS: 'postgres', BUS_CHECK_INTERVAL: '1h' });
    silent = await group.start({ BUS: 'off' });
  });
  after(async () => {
    await Promise.all(sockets.map((socket) => socket.dispose()));
    await group.stop();
  });

  it('delivers messages sent through any of three processes to subscribers on all three, each once and in seq order', async () => {
    const alice = await signUp(a);
    const bob = await signUp(a);
    const carol = await signUp(a);
    const dave = await signUp(a);
    const room = await roomWithMembers(alice, [bob, carol, dave]);
    const onA = follow(a, carol, room.id);
    const onB = follow(b, dave, room.id);
    const onC = follow(c, dave, room.id);
    const start = await waitUntilAllLive([onA, onB, onC], alice, room.id);
    // Senders on three processes at once: their events interleave in the log as their commits did.
    const sent = await Promise.all([
      (async () => {
        const seqs = [];
        for (let i = 0; i < 30; i++) seqs.push((await send(a, alice, room.id, `a${i}`)).seq);
        return seqs;
      })(),
      (async () => {
        const seqs = [];
        for (let i = 0; i < 30; i++) seqs.push((await send(b, bob, room.id, `b${i}`)).seq);
        return seqs;
      })(),
      (async () => {
        const seqs = [];
        for (let i = 0; i < 30; i++) seqs.push((await send(c, carol, room.id, `c${i}`)).seq);
        return seqs;
      })(),
    ]);
    const last = Math.max(...sent.flat());
    assert.equal(last, start + 90);
    for (const follower of [onA, onB, onC]) {
      const events = await eventsUntil(follower, last);
      assert.deepEqual(
        events.map((event) => event.seq),
        Array.from({ length: 90 }, (_, i) => start + 1 + i),
      );
      assert.equal(follower.sub.results.size, 0);
    }
  });

  it('resumes through another process from a cursor given by the first', async () => {
    const alice = await signUp(a);
    const bob = await signUp(a);
    const room = await roomWithMembers(alice, [bob]);
    const onA = follow(a, bob, room.id);
    const start = await waitUntilAllLive([onA], alice, room.id);
    await send(a, alice, room.id, 'seen on A');
    const [seen] = await eventsUntil(onA, start + 1);
    onA.ws.drop();
    const missed = [];
    for (let i = 0; i < 5; i++) missed.push((await send(b, alice, room.id, `missed ${i}`)).seq);
    const onB = follow(b, bob, room.id, seen!.cursor!);
    const resumed = await eventsUntil(onB, missed.at(-1)!);
    assert.deepEqual(resumed.map((event) => event.seq), missed);
  });

  it('carries typing and read receipts between processes', async () => {
    const alice = await signUp(a);
    const bob = await signUp(a);
    const room = await roomWithMembers(alice, [bob]);
    const onA = follow(a, alice, room.id);
    const last = await waitUntilAllLive([onA], bob, room.id);
    await group.on(b, bob).http.data(SetTypingDocument, { roomId: room.id, isTyping: true });
    const typing = await onA.next();
    assert.equal(typing.__typename, 'TypingChanged');
    assert.deepEqual(typing.__typename === 'TypingChanged' && [typing.user?.id, typing.isTyping], [bob.id, true]);
    await group.on(b, bob).http.data(MarkReadDocument, { roomId: room.id, seq: last });
    let receipt = await onA.next();
    while (receipt.__typename === 'TypingChanged') receipt = await onA.next(); // a send ends typing
    assert.equal(receipt.__typename, 'ReadReceipt');
    assert.deepEqual(receipt.__typename === 'ReadReceipt' && [receipt.user?.id, receipt.lastReadSeq], [bob.id, last]);
  });

  it("brings an inbox on one process the user events and room activity of another", async () => {
    const alice = await signUp(a);
    const bob = await signUp(a);
    const inbox = followInbox(b.wsUrl, bob);
    sockets.push(inbox.ws);
    await inbox.untilLive();
    const room = await createRoom(alice, 'PRIVATE');
    await group.on(a, alice).http.data(InviteToRoomDocument, { roomId: room.id, userId: bob.id });
    const invited = await inbox.nextPersisted();
    assert.equal(invited.__typename, 'InvitedToRoom');
    assert.equal(invited.__typename === 'InvitedToRoom' && invited.roomId, room.id);
    const shared = await roomWithMembers(alice, [bob]);
    const joined = await inbox.nextPersisted();
    assert.equal(joined.__typename, 'JoinedRoom');
    await send(a, alice, shared.id, 'hello from A');
    let activity = await inbox.next();
    while (activity.__typename !== 'RoomActivity' || activity.roomId !== shared.id) activity = await inbox.next();
    assert.equal(activity.roomId, shared.id);
  });

  it("closes a user's sockets on every process when they sign out on one", async () => {
    const bob = await signUp(a);
    const onB = connectWs(b.wsUrl, { authorization: `Bearer ${bob.token}` });
    sockets.push(onB);
    await onB.connected;
    await group.on(a, bob).http.data(SignOutDocument, {});
    const closed = await onB.closed;
    assert.equal(closed.code, 4403);
    assert.match(closed.reason, /signed out/i);
  });

  it('closes the sockets and forgets the cached tokens of a sign-out whose message was lost, at the next check', async () => {
    const checked = await group.start({ BUS: 'postgres', BUS_CHECK_INTERVAL: '200ms' });
    const bob = await signUp(a);
    const socket = connectWs(checked.wsUrl, { authorization: `Bearer ${bob.token}` });
    sockets.push(socket);
    await socket.connected;
    // Carol has no socket there, only her token in the process's cache.
    const carol = await signUp(a);
    const onChecked = group.on(checked, carol).http;
    await onChecked.data(MeDocument, {});
    await group.on(silent, bob).http.data(SignOutDocument, {}); // the process with no bus tells nobody
    await group.on(silent, carol).http.data(SignOutDocument, {});
    const closed = await Promise.race([socket.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still open after 5 s')), 5000))]);
    assert.equal(closed.code, 4403);
    assert.match(closed.reason, /signed out/i);
    // Carol's cached token is forgotten by the checks too (well before the cache's own 60 s).
    const deadline = Date.now() + 5000;
    while (errorCodes(await onChecked.request(MeDocument, {})).length === 0) {
      assert.ok(Date.now() < deadline, 'the revoked token is still accepted over HTTP');
      await new Promise((resolve) => setTimeout(resolve, 50)); // the next check is at most 200 ms away
    }
    assert.deepEqual(errorCodes(await onChecked.request(MeDocument, {})), ['UNAUTHENTICATED']);
  });

  it('heals from the log when the listening connection is cut: what was committed meanwhile arrives', async () => {
    const alice = await signUp(a);
    const bob = await signUp(a);
    const room = await roomWithMembers(alice, [bob]);
    const onB = follow(b, bob, room.id);
    const start = await waitUntilAllLive([onB], alice, room.id);
    // Committed with no hint at all (the process's bus is off): B cannot hear of it, its check is an hour away.
    const unheard = await send(silent, alice, room.id, 'no hint');
    assert.equal(unheard.seq, start + 1);
    const cutAt = Date.now();
    const [row] = await b.sql<{ cut: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS cut FROM pg_stat_activity WHERE application_name = 'parley-bus-listen' AND datname = current_database()",
    );
    assert.ok(row!.cut >= 2, `the listening connections of the processes were cut (${row!.cut})`);
    const [healed] = await eventsUntil(onB, unheard.seq, 5000);
    assert.equal(healed!.seq, unheard.seq);
    assert.ok(Date.now() - cutAt < 5000);
    // And live again afterwards.
    const next = await send(a, alice, room.id, 'after the cut');
    assert.equal((await eventsUntil(onB, next.seq))[0]!.seq, next.seq);
  });

  it('heals a lost hint at the periodic check, and counts it', async () => {
    const checked = await group.start({ BUS: 'postgres', BUS_CHECK_INTERVAL: '200ms' });
    const alice = await signUp(a);
    const bob = await signUp(a);
    const room = await roomWithMembers(alice, [bob]);
    const follower = follow(checked, bob, room.id);
    const start = await waitUntilAllLive([follower], alice, room.id);
    const quiet = await send(silent, alice, room.id, 'no hint');
    assert.equal((await eventsUntil(follower, quiet.seq, 5000))[0]!.seq, start + 1);
    const live = await send(a, alice, room.id, 'live again');
    assert.equal((await follower.next(5000)).seq, live.seq);
    const metrics = await (await fetch(checked.url.replace(/\/graphql$/, '/metrics'))).text();
    const figure = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1]);
    assert.ok(figure('parley_bus_gaps_healed_total') >= 1, 'the healed gap is counted');
    assert.ok(figure('parley_bus_checks_total') >= 1);
    assert.equal(figure('parley_bus_listening'), 1);
    assert.ok(figure('parley_bus_messages_received_total') >= 1);
    assert.match(metrics, /^parley_commit_to_socket_seconds_count [1-9]/m);
  });

  it('tells subscribers of a stream more than REPLAY_LIMIT behind to resync, then goes on live', async () => {
    const limited = await group.start({ BUS: 'postgres', BUS_CHECK_INTERVAL: '1h', REPLAY_LIMIT: '5' });
    const alice = await signUp(a);
    const bob = await signUp(a);
    const room = await roomWithMembers(alice, [bob]);
    const follower = follow(limited, bob, room.id);
    await waitUntilAllLive([follower], alice, room.id);
    let last = 0;
    for (let i = 0; i < 8; i++) last = (await send(silent, alice, room.id, `unheard ${i}`)).seq;
    // The listening connections are cut: on reconnect every process compares its streams with their logs.
    await limited.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'parley-bus-listen' AND datname = current_database()");
    const resync = await follower.next(5000);
    assert.equal(resync.__typename, 'ResyncRequired');
    assert.equal(resync.__typename === 'ResyncRequired' && resync.lastSeq, last);
    const live = await send(a, alice, room.id, 'after the resync');
    assert.equal((await follower.next(5000)).seq, live.seq);
    const metrics = await (await fetch(limited.url.replace(/\/graphql$/, '/metrics'))).text();
    assert.match(metrics, /^parley_bus_resyncs_total 1$/m);
  });
});
