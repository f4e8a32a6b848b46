import {
  ParleyMessagesPageDocument,
  ParleyRoomCursorDocument,
  ParleyRoomEventsDocument,
  type ParleyMessagesPageQuery,
  type ParleyRoomEventsSubscription,
} from './__generated__/graphql.js';
import { ParleyGraphQLError } from './errors.js';
import type { OperationRunner } from './operations.js';
import { queryText } from './operations.js';
import type { StreamDefinition } from './stream-follower.js';

/** An event of `roomEvents`, as the SDK selects it. */
export type RoomEvent = ParleyRoomEventsSubscription['roomEvents'];

/** A page of a room's history (oldest first). */
export type MessagesPage = ParleyMessagesPageQuery['messages'];

/** Told to `onResync` when the server skipped a room's events (more than REPLAY_LIMIT behind). */
export interface RoomResync {
  roomId: string;
  /** The stream continues after this seq. */
  lastSeq: number;
  /** The stream's resume point from now on. */
  cursor: string;
  /** Pages the room's history backwards: `{ last: 50 }` for the newest, then `before: page.pageInfo.startCursor`. */
  fetchHistory(page?: { last?: number; before?: string | null }): Promise<MessagesPage>;
}

/** How `roomEvents(roomId)` is followed: starts from `room(id) { cursor }`, read before subscribing. */
export function roomStream(roomId: string, runner: OperationRunner): StreamDefinition<RoomEvent, RoomResync> {
  const fetchHistory = async (page: { last?: number; before?: string | null } = {}) =>
    (await runner.run(ParleyMessagesPageDocument, { roomId, last: page.last ?? 50, before: page.before ?? null }, { route: 'auto' })).messages;
  return {
    query: queryText(ParleyRoomEventsDocument),
    variables: (after) => ({ roomId, after }),
    event: (data) => (data as ParleyRoomEventsSubscription).roomEvents,
    async start() {
      const { room } = await runner.run(ParleyRoomCursorDocument, { id: roomId }, { route: 'auto' });
      if (!room) throw new ParleyGraphQLError([{ message: 'Room not found', extensions: { code: 'NOT_FOUND' } }]);
      return { cursor: room.cursor, lastSeq: room.lastSeq };
    },
    resync: (event) =>
      event.__typename === 'ResyncRequired' ? { roomId, lastSeq: event.lastSeq, cursor: event.cursor, fetchHistory } : undefined,
  };
}
