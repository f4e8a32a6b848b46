import { encodeCursor } from '../../domain/cursor.js';
import type { DeliveredRoomEvent, PersistedRoomEvent } from '../../domain/room-events.js';
import type { GraphQLContext } from '../context.js';
import type { Resolvers } from '../__generated__/resolvers-types.js';
import { loadOrFail } from './load-or-fail.js';

type RoomEventTypeName =
  | 'MessageAdded'
  | 'MessageEdited'
  | 'MessageDeleted'
  | 'ReactionChanged'
  | 'MemberJoined'
  | 'MemberInvited'
  | 'MemberLeft'
  | 'RoomUpdated'
  | 'TypingChanged'
  | 'ReadReceipt'
  | 'ResyncRequired';

/** The GraphQL type of each domain event kind. */
function typeName(event: DeliveredRoomEvent): RoomEventTypeName {
  switch (event.kind) {
    case 'MESSAGE_ADDED':
      return 'MessageAdded';
    case 'MESSAGE_EDITED':
      return 'MessageEdited';
    case 'MESSAGE_DELETED':
      return 'MessageDeleted';
    case 'REACTION_ADDED':
    case 'REACTION_REMOVED':
      return 'ReactionChanged';
    case 'MEMBER_JOINED':
      return 'MemberJoined';
    case 'MEMBER_INVITED':
      return 'MemberInvited';
    case 'MEMBER_LEFT':
    case 'MEMBER_REMOVED':
      return 'MemberLeft';
    case 'ROOM_RENAMED':
      return 'RoomUpdated';
    case 'TYPING_CHANGED':
      return 'TypingChanged';
    case 'READ_RECEIPT':
      return 'ReadReceipt';
    case 'RESYNC_REQUIRED':
      return 'ResyncRequired';
    default:
      return event satisfies never;
  }
}

const persisted = {
  seq: (event: PersistedRoomEvent) => event.seq,
  cursor: (event: PersistedRoomEvent) => encodeCursor(event.roomId, event.seq),
};

function message(event: PersistedRoomEvent, _: unknown, ctx: GraphQLContext) {
  if (event.message) return event.message;
  if (!event.messageId) throw new Error(`${event.kind} event ${event.seq} has no message`);
  return loadOrFail(ctx.loaders.messages, event.messageId, 'Message');
}

/** A user the event names; null when the account no longer exists. */
function user(id: string | null, ctx: GraphQLContext) {
  return id ? ctx.loaders.users.load(id) : null;
}

export const roomEventResolvers: Resolvers = {
  RoomEvent: { __resolveType: typeName },
  MessageAdded: { ...persisted, message },
  MessageEdited: { ...persisted, message },
  MessageDeleted: { ...persisted, message, deletedBy: (e, _, ctx) => user(e.actorId, ctx) },
  ReactionChanged: {
    ...persisted,
    message,
    emoji: (e) => e.data.emoji ?? '',
    user: (e, _, ctx) => user(e.actorId, ctx),
    added: (e) => e.kind === 'REACTION_ADDED',
  },
  MemberJoined: { ...persisted, user: (e, _, ctx) => user(e.targetUserId, ctx) },
  MemberInvited: {
    ...persisted,
    user: (e, _, ctx) => user(e.targetUserId, ctx),
    invitedBy: (e, _, ctx) => user(e.actorId, ctx),
  },
  MemberLeft: {
    ...persisted,
    user: (e, _, ctx) => user(e.targetUserId, ctx),
    removedBy: (e, _, ctx) => (e.kind === 'MEMBER_REMOVED' ? user(e.actorId, ctx) : null),
  },
  RoomUpdated: {
    ...persisted,
    name: (e) => e.data.name ?? '',
    room: (e, _, ctx) => loadOrFail(ctx.loaders.rooms, e.roomId, 'Room'),
  },
  TypingChanged: { seq: () => null, cursor: () => null, user: (e, _, ctx) => user(e.userId, ctx) },
  ReadReceipt: { seq: () => null, cursor: () => null, user: (e, _, ctx) => user(e.userId, ctx) },
  ResyncRequired: { seq: () => null, cursor: (e) => encodeCursor(e.roomId, e.lastSeq) },
};
