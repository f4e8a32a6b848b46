import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { RoomActivity } from '../src/domain/room-activity.js';
import type { RoomEvent } from '../src/domain/room-events.js';
import type { UserEvent } from '../src/domain/user-events.js';
import { InProcessStreamEventBus } from '../src/realtime/stream-event-bus.js';
import { roomStream, userStream } from '../src/realtime/stream-keys.js';
import { ManualClock } from './helpers/manual-clock.js';

/** RoomActivity over a real in-process bus: what it publishes to a user's stream. */
function setUp() {
  const bus = new InProcessStreamEventBus<RoomEvent | UserEvent>();
  const published: { userId: string; roomId: string }[] = [];
  const activity = new RoomActivity(bus, { publish: (userId, event) => event.kind === 'ROOM_ACTIVITY' && published.push({ userId, roomId: event.roomId }) }, new ManualClock(), 1000, pino({ level: 'silent' }));
  const message = (roomId: string, seq: number): RoomEvent => ({
    kind: 'MESSAGE_ADDED',
    roomId,
    seq,
    at: new Date(),
    actorId: 'author',
    messageId: `m${seq}`,
    targetUserId: null,
    data: {},
  });
  const membership = (userId: string, roomId: string, seq: number, joined: boolean): UserEvent => ({
    kind: joined ? 'JOINED_ROOM' : 'REMOVED_FROM_ROOM',
    userId,
    seq,
    at: new Date(),
    roomId,
    actorId: null,
    messageId: null,
  });
  return { bus, activity, published, message, membership };
}

describe('room activity watch', () => {
  it('ends at the latest membership whatever order joins, departures and the snapshot arrive in', async () => {
    const { bus, activity, published, message, membership } = setUp();
    let deliverSnapshot!: (snapshot: { roomIds: string[]; asOfSeq: number }) => void;
    const watch = activity.watch('u', new Promise((resolve) => (deliverSnapshot = resolve)));
    // Left r1 at seq 5 and rejoined at 6 on another device; the join is published first.
    bus.publish(userStream('u'), membership('u', 'r1', 6, true));
    bus.publish(userStream('u'), membership('u', 'r1', 5, false));
    // Joined r2 at 7, then left it at 8, published in reverse.
    bus.publish(userStream('u'), membership('u', 'r2', 8, false));
    bus.publish(userStream('u'), membership('u', 'r2', 7, true));
    // The snapshot was read at seq 4: r1 and r3 then. It must not undo what came later.
    deliverSnapshot({ roomIds: ['r1', 'r3'], asOfSeq: 4 });
    await watch.ready;
    for (const roomId of ['r1', 'r2', 'r3']) bus.publish(roomStream(roomId), message(roomId, 10));
    assert.deepEqual(published.map((p) => p.roomId).sort(), ['r1', 'r3']);
    watch.stop();
    assert.equal(bus.listenerCount(roomStream('r1')), 0);
    assert.equal(bus.listenerCount(userStream('u')), 0);
    assert.equal(activity.watchedUsers(), 0);
  });

  it('survives a failed snapshot of a second inbox, and takes the rooms from a later one', async () => {
    const { bus, activity, published, message } = setUp();
    const first = activity.watch('u', Promise.reject(new Error('database unavailable')));
    await first.ready; // settles: the watch follows joins only for now
    const second = activity.watch('u', Promise.reject(new Error('still unavailable'))); // must not be unhandled
    await second.ready;
    bus.publish(roomStream('r1'), message('r1', 1));
    assert.deepEqual(published, []);
    const third = activity.watch('u', Promise.resolve({ roomIds: ['r1'], asOfSeq: 3 }));
    await third.ready;
    bus.publish(roomStream('r1'), message('r1', 2));
    assert.deepEqual(published, [{ userId: 'u', roomId: 'r1' }]);
    for (const watch of [first, second, third]) watch.stop();
    assert.equal(activity.watchedUsers(), 0);
  });
});
