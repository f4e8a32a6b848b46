// The room list: read on InboxLive (the README's recovery recipe), then kept live by the inbox's events.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { InboxEvent, ParleyClient } from '../../../src/client/index.js';
import { AppRoomsDocument, type AppRoomFragment, type AppUserFragment } from '../__generated__/graphql.js';

export interface RoomsState {
  rooms: AppRoomFragment[];
  invitations: AppRoomFragment[];
  loaded: boolean;
  /** Reads `rooms` and `roomInvitations` again. */
  reload(): Promise<void>;
  /** Puts a room the app just created, joined or opened into the list at once. */
  upsert(room: AppRoomFragment): void;
  /** Shows a room as read (the server's markRead answer follows as RoomActivity). */
  markSeen(roomId: string, room?: AppRoomFragment): void;
  remove(roomId: string): void;
}

export interface InboxNotice {
  kind: 'mention' | 'direct';
  roomId: string;
  roomName: string;
  author: string;
  body: string;
  messageId: string;
}

export function useRooms(client: ParleyClient, me: AppUserFragment, onNotice: (notice: InboxNotice) => void): RoomsState {
  const [rooms, setRooms] = useState<AppRoomFragment[]>([]);
  const [invitations, setInvitations] = useState<AppRoomFragment[]>([]);
  const [loaded, setLoaded] = useState(false);
  const noticeRef = useRef(onNotice);
  noticeRef.current = onNotice;
  const roomsRef = useRef(rooms);
  roomsRef.current = rooms;

  const reload = useCallback(async () => {
    const data = await client.request(AppRoomsDocument, {});
    setRooms(data.rooms);
    setInvitations(data.roomInvitations);
    setLoaded(true);
  }, [client]);

  const upsert = useCallback((room: AppRoomFragment) => {
    setRooms((list) => (list.some((r) => r.id === room.id) ? list.map((r) => (r.id === room.id ? { ...r, ...room } : r)) : [...list, room]));
    setInvitations((list) => list.filter((r) => r.id !== room.id || !room.isMember));
  }, []);

  const markSeen = useCallback((roomId: string, room?: AppRoomFragment) => {
    setRooms((list) => list.map((r) => (r.id === roomId ? { ...r, ...room, unreadCount: 0, mentionCount: 0 } : r)));
  }, []);

  const remove = useCallback((roomId: string) => setRooms((list) => list.filter((r) => r.id !== roomId)), []);

  useEffect(() => {
    const notified = new Set<string>();
    const apply = (event: InboxEvent) => {
      switch (event.__typename) {
        case 'RoomActivity': {
          const room = event.room;
          if (!room) return;
          setRooms((list) => list.map((r) => (r.id === room.id ? { ...r, ...room } : r)));
          // A DM someone opened with us shows once it has a message: read the list for it.
          if (!roomsRef.current.some((r) => r.id === room.id)) void reload().catch(console.warn);
          const message = event.lastMessage;
          if (room.kind === 'DIRECT' && message && message.author.id !== me.id && room.unreadCount > 0 && !notified.has(message.id)) {
            notified.add(message.id);
            noticeRef.current({ kind: 'direct', roomId: room.id, roomName: room.name, author: message.author.username, body: message.body, messageId: message.id });
          }
          return;
        }
        case 'Mentioned': {
          const message = event.message;
          if (!message || notified.has(message.id)) return;
          notified.add(message.id);
          const roomName = roomsRef.current.find((r) => r.id === event.roomId)?.name ?? '';
          noticeRef.current({ kind: 'mention', roomId: event.roomId, roomName, author: message.author.username, body: message.body, messageId: message.id });
          return;
        }
        case 'JoinedRoom':
        case 'InvitedToRoom':
          void reload().catch(console.warn);
          return;
        case 'RemovedFromRoom':
          setRooms((list) => list.filter((r) => r.id !== event.roomId));
          return;
        case 'InboxLive':
        case 'InboxResyncRequired':
          return;
      }
    };
    const inbox = client.inbox({
      onEvent: apply,
      onLive: () => void reload().catch(console.warn),
      onResync: () => reload(),
      onError: (error) => console.warn('inbox ended', error),
    });
    return () => inbox.unsubscribe();
  }, [client, me.id, reload]);

  return { rooms, invitations, loaded, reload, upsert, markSeen, remove };
}
