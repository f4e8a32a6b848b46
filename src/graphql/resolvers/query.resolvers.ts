import { requireViewer } from '../context.js';
import type { QueryResolvers } from '../__generated__/resolvers-types.js';

export const Query: QueryResolvers = {
  me: (_, __, ctx) => ctx.services.users.me(requireViewer(ctx)),
  rooms: (_, { includeHidden }, ctx) => ctx.services.rooms.listJoined(requireViewer(ctx), includeHidden ?? false),
  roomInvitations: (_, __, ctx) => ctx.services.rooms.listInvitations(requireViewer(ctx)),
  room: (_, { id }, ctx) => ctx.services.rooms.findVisible(requireViewer(ctx), id),
  messages: (_, { roomId, ...page }, ctx) => ctx.services.messages.history(requireViewer(ctx), roomId, page),
};
