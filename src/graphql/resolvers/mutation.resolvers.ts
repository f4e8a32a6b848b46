import { requireViewer } from '../context.js';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';

export const Mutation: MutationResolvers = {
  signUp: (_, { username, password }, ctx) => ctx.services.users.signUp(username, password),
  signIn: (_, { username, password }, ctx) => ctx.services.users.signIn(username, password),
  createRoom: (_, { name, kind }, ctx) => ctx.services.rooms.create(requireViewer(ctx), name, kind ?? 'PUBLIC'),
  joinRoom: (_, { roomId }, ctx) => ctx.services.rooms.join(requireViewer(ctx), roomId),
  leaveRoom: (_, { roomId }, ctx) => ctx.services.rooms.leave(requireViewer(ctx), roomId),
  inviteToRoom: (_, { roomId, userId }, ctx) => ctx.services.rooms.invite(requireViewer(ctx), roomId, userId),
  sendMessage: (_, { roomId, body, clientMessageId }, ctx) =>
    ctx.services.messages.send(requireViewer(ctx), roomId, body, clientMessageId),
};
