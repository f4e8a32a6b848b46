import type { Room as RoomEntity } from '../../db/entities/room.entity.js';
import { directPeerId } from '../../domain/direct-rooms.service.js';
import { requireViewer, type GraphQLContext } from '../context.js';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { toConnection } from './connection.js';
import { loadOrFail } from './load-or-fail.js';

/** The other participant of a DIRECT room for whoever asks; null for other rooms (or without a viewer). */
function peerOf(room: RoomEntity, ctx: GraphQLContext) {
  const peerId = ctx.auth.kind === 'user' ? directPeerId(room, ctx.auth.viewer.id) : null;
  return peerId ? loadOrFail(ctx.loaders.users, peerId, 'User') : null;
}

/** Finding people and rooms, direct rooms, member lists and blocking. */
export const peopleResolvers: Resolvers = {
  Query: {
    publicRooms: async (_, { search, ...page }, ctx) => toConnection(await ctx.services.directory.publicRooms(requireViewer(ctx), search, page)),
    users: async (_, { search, ...page }, ctx) => toConnection(await ctx.services.directory.users(requireViewer(ctx), search, page)),
    user: (_, { id }, ctx) => {
      requireViewer(ctx);
      return ctx.loaders.users.load(id);
    },
    blockedUsers: (_, __, ctx) => ctx.services.blocks.blocked(requireViewer(ctx)),
  },
  Mutation: {
    openDirectRoom: (_, { userId }, ctx) => ctx.services.directRooms.open(requireViewer(ctx), userId),
    hideRoom: (_, { roomId }, ctx) => ctx.services.directRooms.hide(requireViewer(ctx), roomId),
    blockUser: (_, { userId }, ctx) => ctx.services.blocks.block(requireViewer(ctx), userId),
    unblockUser: (_, { userId }, ctx) => ctx.services.blocks.unblock(requireViewer(ctx), userId),
  },
  Room: {
    name: async (room, _, ctx) => (room.kind === 'DIRECT' ? ((await peerOf(room, ctx))?.username ?? room.name) : room.name),
    isMember: (room, _, ctx) => ctx.loaders.isMember.load(room.id),
    members: async (room, page, ctx) => toConnection(await ctx.services.members.list(room, page)),
    peer: (room, _, ctx) => peerOf(room, ctx),
  },
  RoomMember: {
    user: (member, _, ctx) => loadOrFail(ctx.loaders.users, member.userId, 'User'),
  },
  User: {
    blockedByMe: (user, _, ctx) => ctx.loaders.blockedByViewer.load(user.id),
  },
};
