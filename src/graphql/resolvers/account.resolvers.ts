import type { Resolvers } from '../__generated__/resolvers-types.js';
import { requireViewer } from '../context.js';

/** Managing one's own account. (`User.deleted` is served by the default resolver: PublicUser carries it.) */
export const accountResolvers: Resolvers = {
  Mutation: {
    changePassword: (_, { currentPassword, newPassword }, ctx) => {
      const viewer = requireViewer(ctx);
      const change = () => ctx.services.accounts.changePassword(viewer, currentPassword, newPassword, ctx.clientAddress);
      // Over a WebSocket, the socket asking keeps going with the fresh token; every other one closes.
      return ctx.connection ? ctx.connection.renewCredentials(change) : change();
    },
    deleteAccount: (_, { password }, ctx) => ctx.services.accounts.deleteAccount(requireViewer(ctx), password, ctx.clientAddress),
  },
};
