import type { DataSource } from 'typeorm';
import type { Message } from '../db/entities/message.entity.js';
import { queryRows } from '../db/query-rows.js';
import { validateEmoji } from './emoji.js';
import { BadUserInputError } from './errors.js';
import type { RoomEvents } from './room-events.js';
import type { UserEvents } from './user-events.js';
import { readReactionSnapshot } from '../db/queries/reaction-snapshots.js';
import type { ReactionSummary } from './reaction-summaries.js';
import { RoomChanges } from './room-changes.js';
import type { Viewer } from './viewer.js';


/** Reactions: at most one per user per emoji per message; every change is logged and published after commit. */
export class ReactionsService {
  private readonly changes: RoomChanges;

  constructor(
    private readonly db: DataSource,
    events: RoomEvents,
    userEvents: UserEvents,
  ) {
    this.changes = new RoomChanges(db, events, userEvents);
  }

  /**
   * Adds the viewer's reaction; a no-op (no event) when it is already there.
   * @throws NotFoundError / ForbiddenError as for reading the message's room; BadUserInputError for an invalid
   *   emoji or a deleted message.
   */
  add(viewer: Viewer, messageId: string, emoji: string): Promise<Message> {
    return this.change(viewer, messageId, emoji, 'add');
  }

  /** Removes the viewer's reaction; a no-op when there is none. Errors as for `add`. */
  remove(viewer: Viewer, messageId: string, emoji: string): Promise<Message> {
    return this.change(viewer, messageId, emoji, 'remove');
  }

  /** Reaction summaries per message, for one viewer; messages without reactions are absent. For DataLoader. */
  async summarize(viewer: Viewer | null, messageIds: readonly string[]): Promise<Map<string, ReactionSummary[]>> {
    const rows: { message_id: string; emoji: string; count: string; mine: boolean }[] = await this.db.query(
      `SELECT message_id, emoji, count(*) AS count, bool_or(user_id = $2) AS mine
       FROM message_reactions WHERE message_id = ANY($1)
       GROUP BY message_id, emoji ORDER BY message_id, min(created_at), emoji`,
      [messageIds, viewer?.id ?? null],
    );
    const byMessage = new Map<string, ReactionSummary[]>();
    for (const row of rows) {
      const list = byMessage.get(row.message_id) ?? [];
      list.push({ emoji: row.emoji, count: Number(row.count), reactedByMe: row.mine === true });
      byMessage.set(row.message_id, list);
    }
    return byMessage;
  }

  private change(viewer: Viewer, messageId: string, rawEmoji: string, change: 'add' | 'remove'): Promise<Message> {
    const emoji = validateEmoji(rawEmoji);
    return this.changes.toMessage(viewer, messageId, async ({ tx, message, append }) => {
      if (message.deletedAt) throw new BadUserInputError('Message was deleted', 'messageId');
      const changed = await queryRows(
        tx,
        change === 'add'
          ? 'INSERT INTO message_reactions (message_id, user_id, emoji) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1'
          : 'DELETE FROM message_reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3 RETURNING 1',
        [messageId, viewer.id, emoji],
      );
      if (changed.length === 0) return message;
      await append({
        kind: change === 'add' ? 'REACTION_ADDED' : 'REACTION_REMOVED',
        actorId: viewer.id,
        messageId,
        message,
        reactions: await readReactionSnapshot(tx, messageId),
        data: { emoji },
      });
      return message;
    });
  }
}
