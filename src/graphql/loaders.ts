import DataLoader from 'dataloader';
import type { Message } from '../db/entities/message.entity.js';
import type { Room } from '../db/entities/room.entity.js';
import type { ReactionSummary } from '../domain/reaction-summaries.js';
import { NOT_A_MEMBER, type ReadState } from '../domain/read-state.service.js';
import type { Services } from '../domain/services.js';
import type { PublicUser } from '../domain/users.service.js';
import type { Viewer } from '../domain/viewer.js';
import { OFFLINE_UNSEEN } from '../domain/presence-rules.js';
import type { Presence } from '../domain/presence.js';

/** Batching loaders for one operation (or one subscription event): they cache, so they must not live longer. */
export interface Loaders {
  users: DataLoader<string, PublicUser | null>;
  rooms: DataLoader<string, Room | null>;
  messages: DataLoader<string, Message | null>;
  /** Reactions per message id, as the viewer sees them. */
  reactions: DataLoader<string, ReactionSummary[]>;
  /** Active mentions per message id, as user ids. */
  mentions: DataLoader<string, string[]>;
  /** The viewer's unread mentions per room id (0 where not a member). */
  mentionCounts: DataLoader<string, number>;
  /** The viewer's read state per room id. */
  readStates: DataLoader<string, ReadState>;
  /** Users' presence as the viewer sees it, per user id. */
  presence: DataLoader<string, Presence>;
  /** Whether the viewer is a member, per room id. */
  isMember: DataLoader<string, boolean>;
  /** Rooms the viewer may see now, per room id (null: missing or not visible to them). */
  visibleRooms: DataLoader<string, Room | null>;
  /** The newest message that is not deleted, per room id. */
  latestMessages: DataLoader<string, Message | null>;
  /** Whether the viewer has blocked them, per user id. */
  blockedByViewer: DataLoader<string, boolean>;
}

export function createLoaders(services: Services, viewer: Viewer | null): Loaders {
  return {
    users: new DataLoader(async (ids) => inOrder(ids, await services.users.findByIds(ids))),
    rooms: new DataLoader(async (ids) => inOrder(ids, await services.rooms.findByIds(ids))),
    messages: new DataLoader(async (ids) => inOrder(ids, await services.messages.findByIds(ids))),
    reactions: new DataLoader(async (ids) => {
      const byMessage = await services.reactions.summarize(viewer, ids);
      return ids.map((id) => byMessage.get(id) ?? []);
    }),
    mentions: new DataLoader(async (ids) => {
      const byMessage = await services.messages.mentionsOf(ids);
      return ids.map((id) => byMessage.get(id) ?? []);
    }),
    mentionCounts: new DataLoader(async (ids) => {
      const byRoom = viewer ? await services.messages.unreadMentionCounts(viewer, ids) : new Map<string, number>();
      return ids.map((id) => byRoom.get(id) ?? 0);
    }),
    isMember: new DataLoader(async (ids) => {
      const rooms = viewer ? await services.members.memberOf(viewer, ids) : new Set<string>();
      return ids.map((id) => rooms.has(id));
    }),
    visibleRooms: new DataLoader(async (ids) => {
      const visible = viewer ? await services.rooms.visibleByIds(viewer, ids) : new Map<string, Room>();
      return ids.map((id) => visible.get(id) ?? null);
    }),
    latestMessages: new DataLoader(async (ids) => {
      const byRoom = await services.inbox.latestMessages(ids);
      return ids.map((id) => byRoom.get(id) ?? null);
    }),
    blockedByViewer: new DataLoader(async (ids) => {
      const blocked = viewer ? await services.blocks.blockedByViewer(viewer, ids) : new Set<string>();
      return ids.map((id) => blocked.has(id));
    }),
    presence: new DataLoader(async (ids) => {
      const byUser = await services.presence.presenceOf(viewer, ids);
      return ids.map((id) => byUser.get(id) ?? OFFLINE_UNSEEN);
    }),
    readStates: new DataLoader(async (ids) => {
      const byRoom = viewer ? await services.readState.readStates(viewer, ids) : new Map<string, ReadState>();
      return ids.map((id) => byRoom.get(id) ?? NOT_A_MEMBER);
    }),
  };
}

function inOrder<T extends { id: string }>(ids: readonly string[], rows: T[]): (T | null)[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}
