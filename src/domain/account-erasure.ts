import type { DataSource } from 'typeorm';
import { Message } from '../db/entities/message.entity.js';
import { RoomMembership } from '../db/entities/room-membership.entity.js';
import { readReactionSnapshot } from '../db/queries/reaction-snapshots.js';
import { queryRows } from '../db/query-rows.js';
import { RoomChanges, type RoomChange } from './room-changes.js';
import type { RoomEvents } from './room-events.js';
import type { UserEvents } from './user-events.js';
import { passOwnership } from './room-ownership.js';
import type { Viewer } from './viewer.js';

/** The username of every deleted account's placeholder (live usernames are unique; these need not be). */
export const DELETED_USERNAME = 'deleted user';

/**
 * Sweeps over the rooms that still hold traces of the account before giving up: a sweep finds more only when a
 * request that authenticated before the account's tokens were revoked joined or reacted meanwhile.
 */
const MAX_SWEEPS = 5;

/**
 * What deleting an account does to the data, once the password was checked (see AccountsService.deleteAccount).
 *
 * Every step is idempotent and the account is marked deleted only at the end, so a run that fails halfway (the
 * database went away) leaves a live account with fewer rooms, and running it again finishes the job. The rooms go
 * one transaction each, through the rooms' own change path: each room is locked, its events are logged at its next
 * seqs and published after its commit, exactly as if the user had left it and removed each reaction. One
 * transaction for every room would hold every one of those rooms' locks (and stall their senders) for the time of
 * the whole deletion, and could not publish per room.
 */
export class AccountErasure {
  private readonly changes: RoomChanges;

  constructor(
    private readonly db: DataSource,
    events: RoomEvents,
    userEvents: UserEvents,
  ) {
    this.changes = new RoomChanges(db, events, userEvents);
  }

  /**
   * Erases the account's traces and turns its row into the placeholder:
   * - in every room where it is a member or has reactions: its reactions are removed (a REACTION_REMOVED event
   *   each, carrying the message's reactions after it), then its membership with its read state (MEMBER_LEFT, actor
   *   and target the user); a room it owned passes to the longest-standing remaining member (see passOwnership),
   *   or stays ownerless when nobody is left;
   * - its invitations and its blocks, both ways, are deleted (invitations it sent stay, `invitedBy` the placeholder);
   * - its row loses its credentials (password hash, external identity), its token version is raised, its username
   *   becomes `deleted user` and `deleted_at` is set. Its messages stay, attributed to the row.
   * Safe to run again, and concurrently with itself.
   * @throws whatever the database throws; the steps done by then stay done.
   */
  async erase(user: Viewer): Promise<void> {
    for (let sweep = 1; ; sweep++) {
      for (const roomId of await this.roomsWithTraces(user.id)) {
        await this.changes.onBehalfOf(user, roomId, (change) => eraseFromRoom(change, user.id));
      }
      if (await this.retire(user.id)) return;
      if (sweep === MAX_SWEEPS) throw new Error(`account ${user.id} kept gaining memberships or reactions while it was being deleted`);
    }
  }

  /** Rooms where the user is a member or has reactions (reactions outlive a membership). */
  private async roomsWithTraces(userId: string): Promise<string[]> {
    const rows = await queryRows<{ room_id: string }>(
      this.db.manager,
      `SELECT room_id FROM room_memberships WHERE user_id = $1
       UNION
       SELECT m.room_id FROM message_reactions r JOIN messages m ON m.id = r.message_id WHERE r.user_id = $1`,
      [userId],
    );
    return rows.map((row) => row.room_id);
  }

  /**
   * The last step, in one transaction: deletes invitations and blocks and makes the row the placeholder, unless
   * a membership or reaction appeared since the sweep (then false: sweep again). Locking the user's row first waits
   * for any transaction still inserting a row that references it, and holds off new ones until this commits.
   */
  private retire(userId: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await queryRows(tx, 'SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId]);
      const [traces] = await queryRows<{ remaining: boolean }>(
        tx,
        `SELECT EXISTS (SELECT 1 FROM room_memberships WHERE user_id = $1)
             OR EXISTS (SELECT 1 FROM message_reactions WHERE user_id = $1) AS remaining`,
        [userId],
      );
      if (traces?.remaining) return false;
      await queryRows(tx, 'DELETE FROM room_invitations WHERE user_id = $1', [userId]);
      await queryRows(tx, 'DELETE FROM user_blocks WHERE blocker_id = $1 OR blocked_id = $1', [userId]);
      await queryRows(
        tx,
        `UPDATE users SET username = $2, password_hash = NULL, external_issuer = NULL, external_subject = NULL,
                          token_version = token_version + 1, deleted_at = COALESCE(deleted_at, now())
         WHERE id = $1`,
        [userId, DELETED_USERNAME],
      );
      return true;
    });
  }
}

/** Inside the room's change: the user's reactions, one event each, then the user's membership. */
async function eraseFromRoom({ tx, access, append }: RoomChange, userId: string): Promise<void> {
  const roomId = access.room.id;
  const reactions = await queryRows<{ message_id: string; emoji: string }>(
    tx,
    `SELECT r.message_id, r.emoji FROM message_reactions r JOIN messages m ON m.id = r.message_id
     WHERE m.room_id = $1 AND r.user_id = $2
     ORDER BY m.seq, r.created_at, r.emoji`,
    [roomId, userId],
  );
  const messages = new Map<string, Message>();
  for (const { message_id: messageId, emoji } of reactions) {
    await queryRows(tx, 'DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3', [messageId, userId, emoji]);
    let message = messages.get(messageId);
    if (!message) messages.set(messageId, (message = await tx.findOneByOrFail(Message, { id: messageId })));
    await append({
      kind: 'REACTION_REMOVED',
      actorId: userId,
      messageId,
      message,
      reactions: await readReactionSnapshot(tx, messageId),
      data: { emoji },
    });
  }
  if (access.role === null) return;
  await tx.delete(RoomMembership, { roomId, userId });
  if (access.role === 'OWNER') await passOwnership(tx, roomId, userId);
  await append({ kind: 'MEMBER_LEFT', actorId: userId, targetUserId: userId });
}
