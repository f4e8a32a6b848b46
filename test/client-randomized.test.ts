import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ParleyClient, type ParleyMessage, type RoomEvent } from '../src/client/index.js';
import { Recorder, roomHistory, seqsOf, testClient, within } from './helpers/client-sdk.js';
import { roomWithMembers, signUp, type TestUser } from './helpers/fixtures.js';
import { seededRandom } from './helpers/seeded-random.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const SEED = 12;
const OPERATIONS = 2_000;

describe('a seeded randomized run of the SDK through a failing network', () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let users: TestUser[];
  const clients: ParleyClient[] = [];
  before(async () => {
    server = await startTestServer();
    proxy = await TcpProxy.start(Number(new URL(server.url).port));
    users = [await signUp(server), await signUp(server), await signUp(server)];
  });
  after(async () => {
    for (const client of clients) await client.close();
    await proxy.close();
    await server.stop();
  });

  it(`${OPERATIONS} operations (sends from 3 clients, cuts, stalls, restores): followers get every event once, in order; every send is stored once`, async () => {
    const random = seededRandom(SEED);
    const started = Date.now();
    const rooms = [await roomWithMembers(users[0]!, [users[1]!, users[2]!]), await roomWithMembers(users[1]!, [users[0]!, users[2]!])];
    const senders = users.map((user) => testClient(proxy.url, user.token));
    const followers = users.slice(0, 2).map((user) => testClient(proxy.url, user.token));
    clients.push(...senders, ...followers);
    const received = followers.map(() => rooms.map(() => new Recorder<RoomEvent>()));
    await Promise.all(followers.flatMap((follower, f) => rooms.map((room, r) => follower.roomEvents(room.id, { onEvent: received[f]![r]!.push }).ready)));

    const sends: { roomIndex: number; body: string; stored: Promise<ParleyMessage> }[] = [];
    const figures = { sends: 0, cuts: 0, stalls: 0, restores: 0 };
    let network: 'open' | 'cut' | 'stalled' = 'open';
    let batch: Promise<unknown>[] = [];
    for (let op = 0; op < OPERATIONS; op++) {
      const roll = random();
      if (network === 'open' && roll < 0.02) {
        proxy.cut();
        network = 'cut';
        figures.cuts++;
      } else if (network === 'open' && roll < 0.04) {
        proxy.stall();
        network = 'stalled';
        figures.stalls++;
      } else if (network !== 'open' && roll < 0.15) {
        proxy.restore();
        network = 'open';
        figures.restores++;
      } else {
        const roomIndex = Math.floor(random() * rooms.length);
        const sender = senders[Math.floor(random() * senders.length)]!;
        const body = `op ${op}`;
        const stored = sender.sendMessage({ roomId: rooms[roomIndex]!.id, body });
        sends.push({ roomIndex, body, stored });
        batch.push(stored);
        figures.sends++;
      }
      // Every 50 operations the network comes back and the run waits for the sends so far: the run stays paced.
      if (op % 50 === 49) {
        if (network !== 'open') (proxy.restore(), (network = 'open'), figures.restores++);
        await within(Promise.all(batch), 20_000, `the sends up to operation ${op}`);
        batch = [];
      }
    }
    proxy.restore();
    const stored = await within(Promise.all(sends.map((s) => s.stored)), 20_000, 'every send');

    for (const [r, room] of rooms.entries()) {
      const history = await roomHistory(users[0]!.http, room.id);
      const expected = sends.filter((s) => s.roomIndex === r);
      assert.deepEqual(history.map((m) => m.body).sort(), expected.map((s) => s.body).sort(), `room ${r}: every send stored, none twice`);
      assert.equal(new Set(history.map((m) => m.clientMessageId)).size, history.length, `room ${r}: no clientMessageId twice`);
      const lastSeq = history.at(-1)!.seq;
      for (const [f] of followers.entries()) {
        const events = received[f]![r]!;
        await events.until((e) => seqsOf(e).at(-1) === lastSeq, 20_000, `follower ${f}, room ${r}: seq ${lastSeq}`);
        assert.deepEqual(seqsOf(events.items), history.map((m) => m.seq), `follower ${f}, room ${r}: every event once, in seq order`);
      }
    }
    assert.equal(new Set(stored.map((m) => m.id)).size, sends.length, 'each send resolved to its own message');
    console.log(`# randomized run (seed ${SEED}): ${OPERATIONS} operations, ${figures.sends} sends, ${figures.cuts} cuts, ${figures.stalls} stalls, ${figures.restores} restores, ${proxy.connectionsAccepted} proxied connections, ${Date.now() - started} ms`);
  });
});
