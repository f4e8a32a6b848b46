import { encodeCursor } from '../../domain/cursor.js';
import type { RoomResolvers } from '../__generated__/resolvers-types.js';

export const Room: RoomResolvers = {
  cursor: (room) => encodeCursor(room.id, room.lastSeq),
  lastReadSeq: async (room, _, ctx) => (await ctx.loaders.readStates.load(room.id)).lastReadSeq,
  unreadCount: async (room, _, ctx) => (await ctx.loaders.readStates.load(room.id)).unreadCount,
  mentionCount: (room, _, ctx) => ctx.loaders.mentionCounts.load(room.id),
};
