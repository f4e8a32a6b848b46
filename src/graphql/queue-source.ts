import { EventQueue } from '../realtime/event-queue.js';
import type { Unsubscribe } from '../realtime/stream-event-bus.js';
import type { EventSink } from '../realtime/stream-subscriber.js';

/**
 * A stream as graphql-js wants a subscription's source: an async iterator that graphql-js pulls events from and
 * executes per subscriber. Its `return()` unsubscribes.
 */
export async function queueSource<TEvent>(follow: (sink: EventSink<TEvent>) => Promise<Unsubscribe>): Promise<AsyncGenerator<TEvent, void>> {
  let unsubscribe: Unsubscribe = () => {};
  const queue = new EventQueue<TEvent>(() => unsubscribe());
  unsubscribe = await follow({ deliver: (event) => queue.push(event), end: (error) => queue.end(error) });
  return queue;
}
