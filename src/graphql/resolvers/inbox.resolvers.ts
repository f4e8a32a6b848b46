import type { Message as MessageEntity } from '../../db/entities/message.entity.js';
import { encodeInboxCursor } from '../../domain/cursor.js';
import type { DeliveredUserEvent, PersistedUserEvent } from '../../domain/user-events.js';
import { renewLoaders, requireViewer, type GraphQLContext } from '../context.js';
import { queueSource } from '../queue-source.js';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { loadOrFail } from './load-or-fail.js';

type InboxEventTypeName = 'Mentioned' | 'InvitedToRoom' | 'JoinedRoom' | 'RemovedFromRoom' | 'RoomActivity' | 'InboxResyncRequired' | 'InboxLive';

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
    case 'INBOX_LIVE':
      return 'InboxLive';
    default:
      return event satisfies never;
  }
}

const persisted = {
  seq: (event: PersistedUserEvent) => event.seq,
  cursor: (event: PersistedUserEvent) => encodeInboxCursor(event.userId, event.seq),
};

/** The room an event names, as it is now, while the viewer may see it (a private room they left: null). */
function room(event: { roomId: string }, _: unknown, ctx: GraphQLContext) {
  return ctx.loaders.visibleRooms.load(event.roomId);
}

/** A message of a room the viewer is a member of now (else null: they cannot read it any more). */
async function readableMessage(roomId: string, load: () => Promise<MessageEntity | null>, ctx: GraphQLContext): Promise<MessageEntity | null> {
  return (await ctx.loaders.isMember.load(roomId)) ? load() : null;
}

/** A user the event names; null when there is none or the account no longer exists. */
function user(id: string | null, ctx: GraphQLContext) {
  return id ? ctx.loaders.users.load(id) : null;
}

function messageIdOf(event: PersistedUserEvent): string {
  if (!event.messageId) throw new Error(`${event.kind} event ${event.seq} of ${event.userId} has no message`);
  return event.messageId;
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
    messageId: (event) => messageIdOf(event),
    message: (event, _, ctx) => readableMessage(event.roomId, () => loadOrFail(ctx.loaders.messages, messageIdOf(event), 'Message'), ctx),
  },
  InvitedToRoom: { ...persisted, room, invitedBy: (event, _, ctx) => user(event.actorId, ctx) },
  JoinedRoom: { ...persisted, room },
  RemovedFromRoom: { ...persisted, roomId: (event) => event.roomId, removedBy: (event, _, ctx) => user(event.actorId, ctx) },
  RoomActivity: {
    seq: () => null,
    cursor: () => null,
    room,
    lastMessage: (event, _, ctx) => readableMessage(event.roomId, () => ctx.loaders.latestMessages.load(event.roomId), ctx),
  },
  InboxLive: { seq: () => null, cursor: () => null },
  InboxResyncRequired: { seq: () => null, cursor: (event) => encodeInboxCursor(event.userId, event.lastSeq) },
};
