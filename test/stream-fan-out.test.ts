// The fan-out's ordering logic on its own: events published out of order or during replay, which the integration
// tests cannot force. The log here is an array standing in for the room_events table; the bus is the real one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventQueue } from '../src/realtime/event-queue.js';
import { InProcessStreamEventBus } from '../src/realtime/stream-event-bus.js';
import { StreamFanOut } from '../src/realtime/stream-fan-out.js';
import type { EventSink } from '../src/realtime/stream-subscriber.js';

interface Event {
  seq?: number;
  note?: string;
}

function room(storedUpTo = 0) {
  const bus = new InProcessStreamEventBus<Event>();
  const fanOut = new StreamFanOut<Event>(bus);
  const stored: Event[] = Array.from({ length: storedUpTo }, (_, i) => ({ seq: i + 1 }));
  let reads = 0;
  return {
    bus,
    fanOut,
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
    /** A subscriber whose events are pulled from an async iterator (the per-subscriber path). */
    open(afterSeq?: number, beforeRead?: () => void) {
      let unsubscribe = () => {};
      const queue = new EventQueue<Event>(() => unsubscribe());
      let subscriber;
      ({ unsubscribe, subscriber } = fanOut.subscribe({
        stream: 'r',
        sink: { deliver: (e) => queue.push(e), end: (error) => queue.end(error) },
        afterSeq,
        pageSize: 3,
        log: {
          readAfter: async (seq, limit) => {
            reads++;
            beforeRead?.();
            return stored.filter((e) => e.seq! > seq).slice(0, limit);
          },
        },
      }));
      void subscriber.start(stored.length);
      return queue;
    },
  };
}

async function take(stream: AsyncIterator<Event>, count: number): Promise<number[]> {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    const { value, done } = await stream.next();
    assert.equal(done, false);
    seqs.push((value as Event).seq!);
  }
  return seqs;
}

/** Lets a subscriber finish starting before the test publishes. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('room fan-out ordering', () => {
  it('fills a gap from the log when a later event overtakes an earlier one, delivering each once', async () => {
    const r = room(2);
    const stream = r.open();
    await settle();
    const three = r.commit(false);
    r.commit(); // seq 4 is published before seq 3
    r.bus.publish('r', three); // the late copy of 3 must be dropped
    r.commit(); // 5
    assert.deepEqual(await take(stream, 3), [3, 4, 5]);
    r.commit();
    assert.deepEqual(await take(stream, 1), [6]);
    await stream.return();
  });

  it('puts events published out of commit order back in order, without reading the log', async () => {
    const r = room(2);
    const stream = r.open();
    await settle();
    r.commit(); // 3: the room's pipeline now expects 4
    assert.deepEqual(await take(stream, 1), [3]);
    const four = r.commit(false);
    r.commit(); // 5 is published before 4, as two publishers finishing out of order would
    r.bus.publish('r', four);
    assert.deepEqual(await take(stream, 2), [4, 5]);
    assert.equal(r.reads, 0, 'the live copies were used: each carries the state as of its own seq');
    await stream.return();
  });

  it('fills from the log after the reorder grace when an earlier event never comes', async () => {
    const r = room(2);
    const stream = r.open();
    await settle();
    r.commit(); // 3
    assert.deepEqual(await take(stream, 1), [3]);
    r.commit(false); // 4 is committed but its publisher never publishes it
    r.commit(); // 5
    assert.deepEqual(await take(stream, 2), [4, 5]);
    assert.equal(r.reads, 1);
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

  it('ends at once on return() while waiting for an event, and leaves the room index empty', async () => {
    const r = room(0);
    const stream = r.open();
    const pending = stream.next();
    await settle();
    assert.equal(r.fanOut.subscriberCount('r'), 1);
    assert.equal(r.bus.listenerCount('r'), 1);
    await stream.return();
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.equal(r.fanOut.subscriberCount('r'), 0);
    assert.equal(r.fanOut.streamCount(), 0);
    assert.equal(r.bus.listenerCount('r'), 0);
    r.commit();
    assert.deepEqual(await stream.next(), { done: true, value: undefined });
  });

  it('reads the log only to replay or to fill a gap, not for a fresh start or in-order live events', async () => {
    const r = room(0);
    const stream = r.open();
    await settle();
    for (let i = 0; i < 5; i++) r.commit();
    assert.deepEqual(await take(stream, 5), [1, 2, 3, 4, 5]);
    assert.equal(r.reads, 0);
    await stream.return();
  });

  it('renders once per group and writes the same payload to every member, in order', async () => {
    const r = room(0);
    const written = new Map<string, string[]>();
    let renders = 0;
    const sink = (name: string, groupKey: string): EventSink<Event> => ({
      groupKey,
      deliver: () => assert.fail('live in-order events go through the group path'),
      render: async (event) => {
        renders++;
        return `${groupKey}:${event.seq}`;
      },
      writeRendered: (payload) => written.set(name, [...(written.get(name) ?? []), String(payload)]),
      end: () => {},
    });
    const log = { readAfter: async () => [] };
    const subscriptions = ['a1', 'a2', 'a3', 'b1'].map((name) => r.fanOut.subscribe({ stream: 'r', log, sink: sink(name, name[0]!) }));
    for (const { subscriber } of subscriptions) void subscriber.start(r.stored.length);
    await settle();
    r.commit();
    r.commit();
    await settle();
    assert.equal(renders, 4); // 2 events × 2 groups
    assert.equal(r.fanOut.counters.groupRenders, 4);
    assert.equal(r.fanOut.counters.groupedDeliveries, 8);
    assert.deepEqual(Object.fromEntries(written), { a1: ['a:1', 'a:2'], a2: ['a:1', 'a:2'], a3: ['a:1', 'a:2'], b1: ['b:1', 'b:2'] });
    for (const s of subscriptions) s.unsubscribe();
    assert.equal(r.fanOut.streamCount(), 0);
  });
});
