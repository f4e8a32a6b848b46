import type { DataSource } from 'typeorm';
import type { Room } from '../db/entities/room.entity.js';
import { listPublicRooms, listUsers } from '../db/queries/directory.js';
import { BadUserInputError } from './errors.js';
import { escapeLike, PageCursors, type ForwardPageArgs, type KeyedPage } from './page-cursor.js';
import type { RateLimits } from './rate-limits.js';
import { requireStorableText } from './storable-text.js';
import type { PublicUser } from './users.service.js';
import type { Viewer } from './viewer.js';

const SIZES = { default: 20, max: 50 };
/** The longest search that can still match: a username has at most 32 characters, a room name 100. */
const USER_SEARCH_MAX = 32;
const ROOM_SEARCH_MAX = 100;

const roomCursors = new PageCursors<readonly [number, string, string]>('publicRooms', ['n', 's', 'u'], SIZES);
const userCursors = new PageCursors<readonly [string]>('users', ['s'], SIZES);

/** Finding rooms to join and people to invite or message: rate-limited per viewer, since a scraper loops over it. */
export class DirectoryService {
  constructor(
    private readonly db: DataSource,
    private readonly limits: RateLimits,
  ) {}

  /**
   * Public rooms with at least one member, most members first, then by name; `search` filters by a
   * case-insensitive substring of the name. Never a private or direct room.
   * @throws BadUserInputError for bad paging arguments or unstorable text; RateLimitedError.
   */
  async publicRooms(viewer: Viewer, search: string | null | undefined, args: ForwardPageArgs): Promise<KeyedPage<Room>> {
    const page = roomCursors.page(args);
    const term = search == null ? '' : searchTerm(search);
    await this.limits.directory(viewer.id);
    if (page.size === 0 || [...term].length > ROOM_SEARCH_MAX) return emptyPage(page.after !== null);
    const rows = await listPublicRooms(this.db.manager, {
      pattern: term === '' ? null : `%${escapeLike(term)}%`, // lowered by PostgreSQL, as the names it matches
      after: page.after,
      limit: page.size + 1,
    });
    return roomCursors.toPage(page, rows, (row) => [row.room.memberCount, row.nameKey, row.room.id] as const, (row) => row.room);
  }

  /**
   * Live accounts whose username starts with `search`, ignoring case, by username.
   * @throws BadUserInputError for an empty search, bad paging arguments or unstorable text; RateLimitedError.
   */
  async users(viewer: Viewer, search: string, args: ForwardPageArgs): Promise<KeyedPage<PublicUser>> {
    const page = userCursors.page(args);
    const term = searchTerm(search);
    if (term === '') throw new BadUserInputError('search must have at least 1 character', 'search');
    await this.limits.directory(viewer.id);
    if (page.size === 0 || [...term].length > USER_SEARCH_MAX) return emptyPage(page.after !== null);
    const after = page.after?.[0] ?? null;
    const rows = await listUsers(this.db.manager, { pattern: `${escapeLike(term)}%`, after, limit: page.size + 1 });
    return userCursors.toPage(page, rows, (row) => [row.usernameKey] as const, (row) => ({ id: row.id, username: row.username, deleted: false }));
  }
}

function emptyPage<T>(hasPreviousPage: boolean): KeyedPage<T> {
  return { items: [], hasNextPage: false, hasPreviousPage };
}

function searchTerm(search: string): string {
  requireStorableText(search, 'search');
  return search.trim();
}
