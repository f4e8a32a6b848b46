import type { Message as MessageEntity } from '../../db/entities/message.entity.js';
import { summarizeSnapshot } from '../../domain/reaction-summaries.js';
import type { DeliveredRoomEvent } from '../../domain/room-events.js';
import { renewLoaders, requireViewer, type GraphQLContext } from '../context.js';
import { roomStreamSource } from '../room-stream-source.js';
import type { SubscriptionResolvers } from '../__generated__/resolvers-types.js';
import { loadOrFail } from './load-or-fail.js';

/**
 * Each event is resolved with fresh loaders (a long-lived subscription must not serve rows cached earlier), primed
 * with what the event carries: its actor, and its message's reactions as of the event's seq.
 */
function freshEvent(event: DeliveredRoomEvent, _args: unknown, ctx: GraphQLContext): DeliveredRoomEvent {
  renewLoaders(ctx);
  if ('actor' in event && event.actor) ctx.loaders.users.prime(event.actor.id, event.actor);
  if ('reactions' in event && event.reactions && event.message) {
    ctx.loaders.reactions.prime(event.message.id, summarizeSnapshot(event.reactions, ctx.auth.kind === 'user' ? ctx.auth.viewer : null));
  }
  return event;
}

export const Subscription: SubscriptionResolvers = {
  messageAdded: {
    subscribe: (_, { roomId, after }, ctx) => roomStreamSource(ctx, (sink) => ctx.services.roomStream.follow(requireViewer(ctx), roomId, after, 'messages', sink)),
    resolve: (event: DeliveredRoomEvent, args: unknown, ctx: GraphQLContext): Promise<MessageEntity> => {
      freshEvent(event, args, ctx);
      if (!('messageId' in event) || !event.messageId) throw new Error(`messageAdded got a ${event.kind} event`);
      return event.message ? Promise.resolve(event.message) : loadOrFail(ctx.loaders.messages, event.messageId, 'Message');
    },
  },
  roomEvents: {
    subscribe: (_, { roomId, after }, ctx) => roomStreamSource(ctx, (sink) => ctx.services.roomStream.follow(requireViewer(ctx), roomId, after, 'all', sink)),
    resolve: freshEvent,
  },
};
