import type { PresenceChange } from '../../domain/presence.js';
import { EventQueue } from '../../realtime/event-queue.js';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { renewLoaders, requireViewer, type GraphQLContext } from '../context.js';
import { loadOrFail } from './load-or-fail.js';

/**
 * Presence: `setStatus`, the `presence` subscription and `User.presence`. The subscription is not a room stream: it
 * runs on graphql-ws's ordinary path, graphql-js pulling each change from a queue and executing it per subscriber.
 */
export const presenceResolvers: Resolvers = {
  Mutation: {
    setStatus: (_, { status }, ctx) => ctx.services.presence.setStatus(requireViewer(ctx), status),
  },
  Subscription: {
    presence: {
      subscribe: async (_, { userIds }, ctx) => {
        let unwatch = () => {};
        const queue = new EventQueue<PresenceChange>(() => unwatch());
        unwatch = await ctx.services.presence.follow(requireViewer(ctx), userIds, (change) => queue.push(change));
        return queue;
      },
      // Fresh loaders per change (a long-lived subscription must not serve rows cached earlier), primed with what
      // the change carries, so `user { presence }` agrees with the change itself.
      resolve: (change: PresenceChange, _args: unknown, ctx: GraphQLContext) => {
        renewLoaders(ctx);
        ctx.loaders.presence.prime(change.userId, change.presence);
        if (change.user) ctx.loaders.users.prime(change.userId, change.user);
        return change;
      },
    },
  },
  PresenceChanged: {
    user: (change, _args, ctx) => loadOrFail(ctx.loaders.users, change.userId, 'User'),
  },
  User: {
    presence: (user, _args, ctx) => ctx.loaders.presence.load(user.id),
  },
};
