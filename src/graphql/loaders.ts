import DataLoader from 'dataloader';
import type { Room } from '../db/entities/room.entity.js';
import type { User } from '../db/entities/user.entity.js';
import type { Services } from '../domain/services.js';

/** Batching loaders for one operation (or one subscription event): they cache, so they must not live longer. */
export interface Loaders {
  users: DataLoader<string, User | null>;
  rooms: DataLoader<string, Room | null>;
}

export function createLoaders(services: Services): Loaders {
  return {
    users: new DataLoader(async (ids) => inOrder(ids, await services.users.findByIds(ids))),
    rooms: new DataLoader(async (ids) => inOrder(ids, await services.rooms.findByIds(ids))),
  };
}

function inOrder<T extends { id: string }>(ids: readonly string[], rows: T[]): (T | null)[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id) ?? null);
}
