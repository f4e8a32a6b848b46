import { requireViewer } from '../context.js';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { toConnection } from './connection.js';

/** Message search. */
export const searchResolvers: Resolvers = {
  Query: {
    searchMessages: async (_, { query, roomId, ...page }, ctx) => {
      const { edges, pageInfo } = toConnection(await ctx.services.messageSearch.search(requireViewer(ctx), query, roomId, page));
      return { edges: edges.map(({ cursor, node }) => ({ cursor, node: node.message, highlight: node.highlight })), pageInfo };
    },
  },
};
