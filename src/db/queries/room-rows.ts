import { Room } from '../entities/room.entity.js';

/** A rooms row as plain SQL returns it: select `ROOM_COLUMNS` (of a table aliased `r`). */
export interface RoomRow {
  id: string;
  name: string;
  kind: Room['kind'];
  last_seq: number;
  member_count: number;
  direct_user_low_id: string | null;
  direct_user_high_id: string | null;
  created_by_id: string | null;
  created_at: Date;
}

/** The columns of a RoomRow, of the rooms table aliased `r`. */
export const ROOM_COLUMNS =
  'r.id, r.name, r.kind, r.last_seq, r.member_count, r.direct_user_low_id, r.direct_user_high_id, r.created_by_id, r.created_at';

/** The entity of a row, without TypeORM's hydration (these queries run for nearly every operation). */
export function roomFromRow(row: RoomRow): Room {
  return Object.assign(new Room(), {
    id: row.id,
    name: row.name,
    kind: row.kind,
    lastSeq: row.last_seq,
    memberCount: row.member_count,
    directUserLowId: row.direct_user_low_id,
    directUserHighId: row.direct_user_high_id,
    createdById: row.created_by_id,
    createdAt: row.created_at,
  });
}
