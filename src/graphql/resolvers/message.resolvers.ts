import { encodeCursor } from '../../domain/cursor.js';
import type { MessageResolvers } from '../__generated__/resolvers-types.js';
import { loadOrFail } from './load-or-fail.js';

export const Message: MessageResolvers = {
  room: (message, _, ctx) => loadOrFail(ctx.loaders.rooms, message.roomId, 'Room'),
  author: (message, _, ctx) => loadOrFail(ctx.loaders.users, message.authorId, 'User'),
  cursor: (message) => encodeCursor(message.roomId, message.seq),
  replyTo: (message, _, ctx) => (message.replyToId ? ctx.loaders.messages.load(message.replyToId) : null),
  reactions: (message, _, ctx) => ctx.loaders.reactions.load(message.id),
  mentions: async (message, _, ctx) => {
    if (message.deletedAt) return [];
    const userIds = await ctx.loaders.mentions.load(message.id);
    return Promise.all(userIds.map((id) => loadOrFail(ctx.loaders.users, id, 'User')));
  },
};
