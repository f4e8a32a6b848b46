import type { DataSource } from 'typeorm';
import type { Room } from '../db/entities/room.entity.js';
import { queryRows } from '../db/query-rows.js';
import type { Clock } from './clock.js';
import { BadUserInputError } from './errors.js';
import { requireMembership } from './room-access.js';
import type { RoomEvents } from './room-events.js';
import { ThrottledSignal } from './throttled-signal.js';
import { TYPING_THROTTLE_MS } from './typing.service.js';
import type { Viewer } from './viewer.js';

/** The viewer's read position in a room and how many messages by others lie beyond it. */
export interface ReadState {
  lastReadSeq: number;
  unreadCount: number;
}

export const NOT_A_MEMBER: ReadState = { lastReadSeq: 0, unreadCount: 0 };

/** Read positions: stored per membership, never moving backwards, announced to the room as ReadReceipt events. */
export class ReadStateService {
  private readonly receipts: ThrottledSignal<number>;

  constructor(
    private readonly db: DataSource,
    events: RoomEvents,
    clock: Clock,
  ) {
    // Receipts are throttled like typing: at most one per user per room per interval, the latest position wins.
    this.receipts = new ThrottledSignal<number>(clock, TYPING_THROTTLE_MS, (key, lastReadSeq) => {
      const [roomId, userId] = key.split(':') as [string, string];
      events.publish(roomId, { kind: 'READ_RECEIPT', roomId, userId, lastReadSeq, at: new Date(clock.now()) });
    });
  }

  /**
   * Moves the viewer's read position to `seq` unless it is already further; it never moves backwards.
   * @throws NotFoundError / ForbiddenError for a room the viewer cannot see / has not joined; BadUserInputError
   *   for a seq below 0 or beyond the room's latest.
   */
  async markRead(viewer: Viewer, roomId: string, seq: number): Promise<Room> {
    const { room } = await requireMembership(this.db.manager, viewer, roomId);
    if (!Number.isInteger(seq) || seq < 0 || seq > room.lastSeq) {
      throw new BadUserInputError(`seq must be between 0 and the room's lastSeq (${room.lastSeq})`, 'seq');
    }
    const rows = await queryRows<{ last_read_seq: number }>(
      this.db.manager,
      `UPDATE room_memberships SET last_read_seq = GREATEST(last_read_seq, $3)
       WHERE room_id = $1 AND user_id = $2 RETURNING last_read_seq`,
      [roomId, viewer.id, seq],
    );
    const lastReadSeq = rows[0]?.last_read_seq;
    if (lastReadSeq !== undefined) this.receipts.set(`${roomId}:${viewer.id}`, lastReadSeq);
    return room;
  }

  /** The viewer's read state in each room (NOT_A_MEMBER where not a member); one statement, for DataLoader. */
  async readStates(viewer: Viewer, roomIds: readonly string[]): Promise<Map<string, ReadState>> {
    const rows: { room_id: string; last_read_seq: number; unread: string }[] = await this.db.query(
      `SELECT m.room_id, m.last_read_seq,
              (SELECT count(*) FROM messages x
               WHERE x.room_id = m.room_id AND x.seq > m.last_read_seq
                 AND x.deleted_at IS NULL AND x.author_id <> m.user_id) AS unread
       FROM room_memberships m WHERE m.user_id = $1 AND m.room_id = ANY($2::uuid[])`,
      [viewer.id, roomIds],
    );
    return new Map(rows.map((row) => [row.room_id, { lastReadSeq: row.last_read_seq, unreadCount: Number(row.unread) }]));
  }

  dispose(): void {
    this.receipts.clear();
  }
}
