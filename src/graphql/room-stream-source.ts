import type { DeliveredRoomEvent } from '../domain/room-events.js';
import { EventQueue } from '../realtime/event-queue.js';
import type { Unsubscribe } from '../realtime/stream-event-bus.js';
import type { EventSink } from '../realtime/stream-subscriber.js';
import type { GraphQLContext } from './context.js';

/**
 * A room stream as graphql-js wants a subscription's source: an async iterator. The domain always delivers to a
 * sink; which one is the transport's choice, made before the operation runs: its own (`ctx.eventSink`, which writes
 * frames itself; the iterator is then only a handle whose `return()` unsubscribes and it yields nothing), or, when
 * it gave none, a queue that graphql-js pulls events from and executes per subscriber.
 */
export async function roomStreamSource(
  ctx: GraphQLContext,
  follow: (sink: EventSink<DeliveredRoomEvent>) => Promise<Unsubscribe>,
): Promise<AsyncGenerator<DeliveredRoomEvent, void>> {
  let unsubscribe: Unsubscribe = () => {};
  const queue = new EventQueue<DeliveredRoomEvent>(() => unsubscribe());
  unsubscribe = await follow(ctx.eventSink ?? { deliver: (event) => queue.push(event), end: (error) => queue.end(error) });
  return queue;
}
