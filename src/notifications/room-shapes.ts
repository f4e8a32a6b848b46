import type { DataSource } from 'typeorm';
import { readRoomShape, type RoomShape } from '../db/queries/notification-rows.js';

/**
 * The kind and DIRECT pair of rooms, read once and kept for the most recently used `capacity` rooms: neither ever
 * changes, so a hit never goes stale. Concurrent lookups of one room share one query; a failed lookup is not kept.
 */
export class RoomShapes {
  private readonly entries = new Map<string, Promise<RoomShape | null>>();

  constructor(
    private readonly db: DataSource,
    private readonly capacity = 10_000,
  ) {}

  /** The room's shape; null for a room that does not exist (not cached: a lookup of a room id never repeats much). */
  get(roomId: string): Promise<RoomShape | null> {
    const cached = this.entries.get(roomId);
    if (cached) {
      this.entries.delete(roomId); // move to the most recent end
      this.entries.set(roomId, cached);
      return cached;
    }
    const lookup = readRoomShape(this.db.manager, roomId);
    this.entries.set(roomId, lookup);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    const forget = () => {
      if (this.entries.get(roomId) === lookup) this.entries.delete(roomId);
    };
    lookup.then((shape) => shape ?? forget(), forget);
    return lookup;
  }
}
