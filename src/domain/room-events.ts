import type { Message } from '../db/entities/message.entity.js';
import type { RoomEventBus } from '../realtime/room-event-bus.js';

/** A message was committed to a room. */
export interface MessageAddedEvent {
  readonly kind: 'messageAdded';
  readonly seq: number;
  readonly message: Message;
}

/** Everything published to a room's subscribers, after commit. */
export type RoomEvent = MessageAddedEvent;

/** The bus the domain publishes room events to. */
export type RoomEvents = RoomEventBus<RoomEvent>;

export function messageAdded(message: Message): MessageAddedEvent {
  return { kind: 'messageAdded', seq: message.seq, message };
}
