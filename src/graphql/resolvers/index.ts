import type { Resolvers } from '../__generated__/resolvers-types.js';
import { DateTimeScalar } from '../scalars.js';
import { Message } from './message.resolvers.js';
import { Mutation } from './mutation.resolvers.js';
import { Query } from './query.resolvers.js';
import { roomEventResolvers } from './room-event.resolvers.js';
import { Room } from './room.resolvers.js';
import { Subscription } from './subscription.resolvers.js';

export const resolvers: Resolvers = { DateTime: DateTimeScalar, Query, Mutation, Subscription, Message, Room, ...roomEventResolvers };
