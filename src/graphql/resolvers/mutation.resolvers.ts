import { BadUserInputError } from '../../domain/errors.js';
import { requireViewer } from '../context.js';
import type { MutationResolvers } from '../__generated__/resolvers-types.js';

export const Mutation: MutationResolvers = {
  signUp: (_, { username, password }, ctx) => ctx.services.users.signUp(username, password, ctx.clientAddress),
  signIn: (_, { username, password }, ctx) => ctx.services.users.signIn(username, password, ctx.clientAddress),
  refreshToken: (_, __, ctx) => ctx.services.users.refreshToken(requireViewer(ctx)),
  authenticate: (_, { token }, ctx) => {
    if (!ctx.connection) throw new BadUserInputError('authenticate works over a WebSocket; over HTTP send the token in the Authorization header', 'token');
    return ctx.connection.authenticate(token);
  },
  signOut: (_, __, ctx) => ctx.services.users.signOut(requireViewer(ctx)),
  createRoom: (_, { name, kind }, ctx) => ctx.services.rooms.create(requireViewer(ctx), name, kind ?? 'PUBLIC', ctx.clientAddress),
  joinRoom: (_, { roomId }, ctx) => ctx.services.rooms.join(requireViewer(ctx), roomId),
  leaveRoom: (_, { roomId }, ctx) => ctx.services.rooms.leave(requireViewer(ctx), roomId),
  inviteToRoom: (_, { roomId, userId }, ctx) => ctx.services.rooms.invite(requireViewer(ctx), roomId, userId),
  renameRoom: (_, { roomId, name }, ctx) => ctx.services.rooms.rename(requireViewer(ctx), roomId, name),
  removeMember: (_, { roomId, userId }, ctx) => ctx.services.rooms.removeMember(requireViewer(ctx), roomId, userId),
  sendMessage: (_, { roomId, ...input }, ctx) => ctx.services.messages.send(requireViewer(ctx), roomId, input),
  editMessage: (_, { messageId, body }, ctx) => ctx.services.messages.edit(requireViewer(ctx), messageId, body),
  deleteMessage: (_, { messageId }, ctx) => ctx.services.messages.delete(requireViewer(ctx), messageId),
  addReaction: (_, { messageId, emoji }, ctx) => ctx.services.reactions.add(requireViewer(ctx), messageId, emoji),
  removeReaction: (_, { messageId, emoji }, ctx) => ctx.services.reactions.remove(requireViewer(ctx), messageId, emoji),
  setTyping: (_, { roomId, isTyping }, ctx) => ctx.services.typing.set(requireViewer(ctx), roomId, isTyping),
  markRead: (_, { roomId, seq }, ctx) => ctx.services.readState.markRead(requireViewer(ctx), roomId, seq),
};
