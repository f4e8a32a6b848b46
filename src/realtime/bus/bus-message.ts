import { decodeStreamEvent, encodeStreamEvent } from '../stream-event-codec.js';

/**
 * One message of the bus between processes: from process `origin`, about stream `stream`. A persisted event's
 * message says "stream has reached `seq`" and carries the event when it fits (else receivers read it from the
 * log); an ephemeral one (typing, receipts, presence, sign-outs) carries the event and has no seq.
 */
export interface BusMessage<TEvent> {
  origin: string;
  stream: string;
  seq?: number | undefined;
  event?: TEvent | undefined;
}

// The text form: the stream codec's envelope (Dates survive), with the origin and seq beside the event.
export function encodeBusMessage<TEvent>(message: BusMessage<TEvent>): string {
  return encodeStreamEvent(message.stream, { o: message.origin, q: message.seq, e: message.event });
}

/** @throws SyntaxError for text that is not a bus message. */
export function decodeBusMessage<TEvent>(text: string): BusMessage<TEvent> {
  const { stream, event } = decodeStreamEvent<{ o?: unknown; q?: unknown; e?: TEvent }>(text);
  if (typeof stream !== 'string' || typeof event?.o !== 'string' || (event.q !== undefined && typeof event.q !== 'number')) {
    throw new SyntaxError('not a bus message');
  }
  return { origin: event.o, stream, seq: event.q as number | undefined, event: event.e };
}
