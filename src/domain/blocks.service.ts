import type { DataSource } from 'typeorm';
import { isUuid } from '../db/ids.js';
import { blockedAmong, blockersAmong, deleteBlock, insertBlock, listBlocked } from '../db/queries/user-blocks.js';
import { BadUserInputError, NotFoundError } from './errors.js';
import type { PublicUser } from './users.service.js';
import type { Viewer } from './viewer.js';

/**
 * Blocking: a user who blocked the viewer is invisible to the viewer's `openDirectRoom` (NOT_FOUND, as for no such
 * user), refuses the viewer's sends to their direct room (the messages insert trigger), and is OFFLINE to the viewer.
 * Public and private rooms both are in are unaffected.
 */
export class BlocksService {
  private readonly listeners: ((blockerId: string, blockedId: string, blocked: boolean) => void)[] = [];

  constructor(private readonly db: DataSource) {}

  /** Registers a listener for blocks made and lifted (presence hides a blocker from running subscriptions). */
  onChange(listener: (blockerId: string, blockedId: string, blocked: boolean) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Blocks a user; false when already blocked.
   * @throws NotFoundError for no such live account; BadUserInputError for the viewer's own id.
   */
  async block(viewer: Viewer, userId: string): Promise<boolean> {
    if (userId === viewer.id) throw new BadUserInputError('You cannot block yourself', 'userId');
    if (!isUuid(userId)) throw new NotFoundError('User');
    const outcome = await insertBlock(this.db.manager, viewer.id, userId);
    if (outcome === 'no such user') throw new NotFoundError('User');
    if (outcome === 'already') return false;
    for (const listener of this.listeners) listener(viewer.id, userId, true);
    return true;
  }

  /** Lifts a block; false when the user was not blocked (or does not exist). */
  async unblock(viewer: Viewer, userId: string): Promise<boolean> {
    if (!isUuid(userId) || !(await deleteBlock(this.db.manager, viewer.id, userId))) return false;
    for (const listener of this.listeners) listener(viewer.id, userId, false);
    return true;
  }

  /** The users the viewer has blocked, by username. */
  async blocked(viewer: Viewer): Promise<PublicUser[]> {
    return (await listBlocked(this.db.manager, viewer.id)).map((user) => ({ ...user, deleted: false }));
  }

  /** Of `userIds`, those the viewer has blocked; for DataLoader batches. */
  blockedByViewer(viewer: Viewer, userIds: readonly string[]): Promise<Set<string>> {
    const valid = userIds.filter(isUuid);
    return valid.length === 0 ? Promise.resolve(new Set()) : blockedAmong(this.db.manager, viewer.id, valid);
  }

  /** Of `userIds`, those who have blocked the viewer (they see the viewer, and are seen by it, OFFLINE). */
  blockersOf(viewer: Viewer, userIds: readonly string[]): Promise<Set<string>> {
    const valid = userIds.filter(isUuid);
    return valid.length === 0 ? Promise.resolve(new Set()) : blockersAmong(this.db.manager, viewer.id, valid);
  }
}
