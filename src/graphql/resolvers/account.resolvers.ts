import type { Resolvers } from '../__generated__/resolvers-types.js';
import { requireViewer } from '../context.js';

/** Managing one's own account. (`User.deleted` is served by the default resolver: PublicUser carries it.) */
export const accountResolvers: Resolvers = {
  Mutation: {
    changePassword: (_, { currentPassword, newPassword }, ctx) =>
      ctx.services.accounts.changePassword(requireViewer(ctx), currentPassword, newPassword, ctx.clientAddress),
    deleteAccount: (_, { password }, ctx) => ctx.services.accounts.deleteAccount(requireViewer(ctx), password, ctx.clientAddress),
  },
};
