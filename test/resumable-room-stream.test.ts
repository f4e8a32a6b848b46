// The stream's ordering logic on its own: events published out of order or during replay, which the integration
// tests cannot force. Storage here is an array standing in for the message table; the bus is the real one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessRoomEventBus } from '../src/realtime/room-event-bus.js';
import { openResumableRoomStream } from '../src/realtime/resumable-room-stream.js';

interface Event {
  seq: number;
}

function room(storedUpTo = 0) {
  const bus = new InProcessRoomEventBus<Event>();
  const stored: Event[] = Array.from({ length: storedUpTo }, (_, i) => ({ seq: i + 1 }));
  let reads = 0;
  return {
    bus,
    stored,
    get reads() {
      return reads;
    },
    /** Commits the next event; publishes it unless `publish` is false (the caller publishes later). */
    commit(publish = true): Event {
      const event = { seq: stored.length + 1 };
      stored.push(event);
      if (publish) bus.publish('r', event);
      return event;
    },
    open(afterSeq?: number, beforeRead?: () => void) {
      return openResumableRoomStream<Event>({
        listen: (onEvent) => bus.subscribe('r', onEvent),
        readAfter: async (seq, limit) => {
          reads++;
          beforeRead?.();
          return stored.filter((e) => e.seq > seq).slice(0, limit);
        },
        readLatestSeq: async () => stored.length,
        ...(afterSeq !== undefined ? { afterSeq } : {}),
        pageSize: 3,
      });
    },
  };
}

async function take(stream: AsyncIterator<Event>, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    const { value, done } = await stream.next();
    assert.equal(done, false);
    seqs.push((value as Event).seq);
  }
  return seqs;
}

describe('resumable room stream', () => {
  it('fills a gap from storage when a later event overtakes an earlier one, delivering each once', async () => {
    const r = room(2);
    const stream = r.open();
    const first = stream.next(); // starts after seq 2
    const three = r.commit(false);
    r.commit(); // seq 4 is published before seq 3
    r.bus.publish('r', three); // the late copy of 3 must be dropped
    r.commit(); // 5
    assert.deepEqual([((await first).value as Event).seq, ...(await take(stream, 2))], [3, 4, 5]);
    r.commit();
    assert.deepEqual(await take(stream, 1), [6]);
    await stream.return();
  });

  it('keeps live events that arrive during a multi-page replay and drops those the replay already gave', async () => {
    const r = room(7);
    let publishedDuringReplay = false;
    const stream = r.open(1, () => {
      if (publishedDuringReplay) return;
      publishedDuringReplay = true;
      r.commit(); // 8, published while the first page is being read
      r.commit(); // 9
    });
    assert.deepEqual(await take(stream, 8), [2, 3, 4, 5, 6, 7, 8, 9]);
    r.commit();
    assert.deepEqual(await take(stream, 1), [10]);
    await stream.return();
  });

  it('ends at once on return() while waiting for an event, and stops listening', async () => {
    const r = room(0);
    const stream = r.open();
    const pending = stream.next();
    await new Promise((resolve) => setImmediate(resolve)); // let it reach the wait
    assert.equal(r.bus.listenerCount('r'), 1);
    await stream.return();
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.equal(r.bus.listenerCount('r'), 0);
    r.commit();
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
  });

  it('reads storage only to replay or to fill a gap, not for in-order live events', async () => {
    const r = room(0);
    const stream = r.open();
    const pending = stream.next();
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 5; i++) r.commit();
    assert.deepEqual([((await pending).value as Event).seq, ...(await take(stream, 4))], [1, 2, 3, 4, 5]);
    assert.equal(r.reads, 0);
    await stream.return();
  });
});
