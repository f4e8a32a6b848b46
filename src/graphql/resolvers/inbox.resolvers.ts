import { encodeInboxCursor } from '../../domain/cursor.js';
import type { DeliveredUserEvent, PersistedUserEvent } from '../../domain/user-events.js';
import { renewLoaders, requireViewer, type GraphQLContext } from '../context.js';
import { queueSource } from '../queue-source.js';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { loadOrFail } from './load-or-fail.js';

type InboxEventTypeName = 'Mentioned' | 'InvitedToRoom' | 'JoinedRoom' | 'RemovedFromRoom' | 'RoomActivity' | 'InboxResyncRequired';

/** The GraphQL type of each inbox event kind. */
function typeName(event: DeliveredUserEvent): InboxEventTypeName {
  switch (event.kind) {
    case 'MENTIONED':
      return 'Mentioned';
    case 'INVITED_TO_ROOM':
      return 'InvitedToRoom';
    case 'JOINED_ROOM':
      return 'JoinedRoom';
    case 'REMOVED_FROM_ROOM':
      return 'RemovedFromRoom';
    case 'ROOM_ACTIVITY':
      return 'RoomActivity';
    case 'INBOX_RESYNC_REQUIRED':
      return 'InboxResyncRequired';
    default:
      return event satisfies never;
  }
}

const persisted = {
  seq: (event: PersistedUserEvent) => event.seq,
  cursor: (event: PersistedUserEvent) => encodeInboxCursor(event.userId, event.seq),
};

/** The room an event names (a room the viewer belonged to or was invited to, so they may see what it is). */
function room(event: { roomId: string }, _: unknown, ctx: GraphQLContext) {
  return loadOrFail(ctx.loaders.rooms, event.roomId, 'Room');
}

/** A user the event names; null when there is none or the account no longer exists. */
function user(id: string | null, ctx: GraphQLContext) {
  return id ? ctx.loaders.users.load(id) : null;
}

export const inboxResolvers: Resolvers = {
  Query: {
    inboxEvents: (_, page, ctx) => ctx.services.inbox.events(requireViewer(ctx), page),
    inboxCursor: (_, __, ctx) => ctx.services.inbox.cursor(requireViewer(ctx)),
  },
  Subscription: {
    inbox: {
      subscribe: (_, { after }, ctx) => queueSource<DeliveredUserEvent>((sink) => ctx.services.inbox.follow(requireViewer(ctx), after, sink)),
      // Each event is resolved with fresh loaders: a long-lived subscription must not serve rows cached earlier.
      resolve: (event: DeliveredUserEvent, _: unknown, ctx: GraphQLContext) => {
        renewLoaders(ctx);
        return event;
      },
    },
  },
  InboxEvent: { __resolveType: typeName },
  Mentioned: {
    ...persisted,
    message: (event, _, ctx) => {
      if (!event.messageId) throw new Error(`MENTIONED event ${event.seq} has no message`);
      return loadOrFail(ctx.loaders.messages, event.messageId, 'Message');
    },
  },
  InvitedToRoom: { ...persisted, room, invitedBy: (event, _, ctx) => user(event.actorId, ctx) },
  JoinedRoom: { ...persisted, room },
  RemovedFromRoom: { ...persisted, roomId: (event) => event.roomId, removedBy: (event, _, ctx) => user(event.actorId, ctx) },
  RoomActivity: {
    seq: () => null,
    cursor: () => null,
    room,
    lastMessage: (event, _, ctx) => ctx.loaders.latestMessages.load(event.roomId),
  },
  InboxResyncRequired: { seq: () => null, cursor: (event) => encodeInboxCursor(event.userId, event.lastSeq) },
};
