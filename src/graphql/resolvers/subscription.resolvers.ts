import type { Message as MessageEntity } from '../../db/entities/message.entity.js';
import type { RoomEvent } from '../../domain/room-events.js';
import { renewLoaders, requireViewer, type GraphQLContext } from '../context.js';
import type { SubscriptionResolvers } from '../__generated__/resolvers-types.js';

export const Subscription: SubscriptionResolvers = {
  messageAdded: {
    subscribe: (_, { roomId, after }, ctx) => ctx.services.messages.follow(requireViewer(ctx), roomId, after),
    resolve: (event: RoomEvent, _args: unknown, ctx: GraphQLContext): MessageEntity => {
      renewLoaders(ctx);
      return event.message;
    },
  },
};
