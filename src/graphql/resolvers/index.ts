import { GraphQLScalarType } from 'graphql';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { DateTimeScalar } from '../scalars.js';
import { accountResolvers } from './account.resolvers.js';
import { Message } from './message.resolvers.js';
import { Mutation } from './mutation.resolvers.js';
import { peopleResolvers } from './people.resolvers.js';
import { presenceResolvers } from './presence.resolvers.js';
import { inboxResolvers } from './inbox.resolvers.js';
import { Query } from './query.resolvers.js';
import { roomEventResolvers } from './room-event.resolvers.js';
import { searchResolvers } from './search.resolvers.js';
import { Room } from './room.resolvers.js';
import { Subscription } from './subscription.resolvers.js';

/** Each feature's resolvers, merged type by type (a field defined twice is a bug this refuses). */
export const resolvers: Resolvers = mergeByType([
  { DateTime: DateTimeScalar, Query, Mutation, Subscription, Message, Room, ...roomEventResolvers },
  peopleResolvers,
  presenceResolvers,
  accountResolvers,
  searchResolvers,
  inboxResolvers,
]);

function mergeByType(parts: Resolvers[]): Resolvers {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const part of parts) {
    for (const [typeName, fields] of Object.entries(part as Record<string, Record<string, unknown>>)) {
      if (fields instanceof GraphQLScalarType) {
        merged[typeName] = fields as unknown as Record<string, unknown>;
        continue;
      }
      const target = (merged[typeName] ??= {});
      for (const [field, resolver] of Object.entries(fields)) {
        if (field in target) throw new Error(`resolver ${typeName}.${field} is defined twice`);
        target[field] = resolver;
      }
    }
  }
  return merged as Resolvers;
}
