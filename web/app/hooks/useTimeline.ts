// The open room: its history (paged backwards), then its live events through the SDK's roomEvents, read from the
// room's cursor taken before the history so nothing falls between the two; typing from TypingChanged.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ParleyClient, RoomEvent } from '../../../src/client/index.js';
import { AppMessagesDocument, AppRoomDocument, type AppMessageFragment } from '../__generated__/graphql.js';

export type ChatMessage = AppMessageFragment;

/** Typing stops showing this long after the last TypingChanged (the server expires it after 6 s). */
const TYPING_SHOWN_MS = 7_000;
const PAGE = 50;

export interface Timeline {
  messages: ChatMessage[];
  hasOlder: boolean;
  loadingOlder: boolean;
  loadOlder(): Promise<void>;
  /** Who is typing now (not the viewer). */
  typing: string[];
  /** Shows a message the app received as a send's answer, unless the stream delivered it already. */
  apply(message: ChatMessage): void;
  /** The room's stream ended (left, removed, gone): the error's message. */
  ended: unknown;
  /** Increments on each membership change, so a member list can refresh. */
  membershipVersion: number;
}

function mergeMessages(list: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

export function useTimeline(client: ParleyClient, roomId: string, meId: string): Timeline {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [hasOlder, setHasOlder] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [typing, setTyping] = useState<Map<string, { name: string; until: number }>>(new Map());
  const [ended, setEnded] = useState<unknown>(null);
  const [membershipVersion, setMembershipVersion] = useState(0);
  const loadingRef = useRef(false);

  useEffect(() => {
    let cancelled = false;
    let stream: { unsubscribe(): void } | undefined;
    setMessages([]);
    setHasOlder(false);
    setOlderCursor(null);
    setTyping(new Map());
    setEnded(null);

    const onEvent = (event: RoomEvent) => {
      switch (event.__typename) {
        case 'MessageAdded':
        case 'MessageEdited':
        case 'MessageDeleted':
        case 'ReactionChanged':
          setMessages((list) => mergeMessages(list, [event.message]));
          if (event.__typename === 'MessageAdded') {
            const author = event.message.author.id;
            setTyping((current) => {
              if (!current.has(author)) return current;
              const next = new Map(current);
              next.delete(author);
              return next;
            });
          }
          return;
        case 'TypingChanged': {
          const user = event.user;
          if (!user || user.id === meId) return;
          setTyping((current) => {
            const next = new Map(current);
            if (event.isTyping) next.set(user.id, { name: user.username, until: Date.now() + TYPING_SHOWN_MS });
            else next.delete(user.id);
            return next;
          });
          return;
        }
        case 'MemberJoined':
        case 'MemberInvited':
        case 'MemberLeft':
          setMembershipVersion((v) => v + 1);
          return;
        default:
          return;
      }
    };

    (async () => {
      const { room } = await client.request(AppRoomDocument, { id: roomId });
      if (!room) throw new Error('Room not found');
      const page = (await client.request(AppMessagesDocument, { roomId, last: PAGE, before: null })).messages;
      if (cancelled) return;
      setMessages(page.edges.map((e) => e.node));
      setHasOlder(page.pageInfo.hasPreviousPage);
      setOlderCursor(page.pageInfo.startCursor ?? null);
      stream = client.roomEvents(roomId, {
        after: room.cursor,
        onEvent,
        onResync: async ({ fetchHistory }) => {
          const fresh = await fetchHistory({ last: PAGE });
          setMessages(fresh.edges.map((e) => e.node));
          setHasOlder(fresh.pageInfo.hasPreviousPage);
          setOlderCursor(fresh.pageInfo.startCursor ?? null);
        },
        onError: (error) => setEnded(error),
      });
      if (cancelled) stream.unsubscribe();
    })().catch((error: unknown) => void (cancelled || setEnded(error)));

    return () => {
      cancelled = true;
      stream?.unsubscribe();
    };
  }, [client, roomId, meId]);

  // Typing indicators expire by themselves when no TypingChanged(false) arrives.
  useEffect(() => {
    if (typing.size === 0) return;
    const timer = setInterval(() => {
      const now = Date.now();
      setTyping((current) => {
        const next = new Map([...current].filter(([, t]) => t.until > now));
        return next.size === current.size ? current : next;
      });
    }, 1_000);
    return () => clearInterval(timer);
  }, [typing.size]);

  const loadOlder = useCallback(async () => {
    if (loadingRef.current || !hasOlder || !olderCursor) return;
    loadingRef.current = true;
    setLoadingOlder(true);
    try {
      const page = (await client.request(AppMessagesDocument, { roomId, last: PAGE, before: olderCursor })).messages;
      setMessages((list) => mergeMessages(list, page.edges.map((e) => e.node)));
      setHasOlder(page.pageInfo.hasPreviousPage);
      setOlderCursor(page.pageInfo.startCursor ?? null);
    } finally {
      loadingRef.current = false;
      setLoadingOlder(false);
    }
  }, [client, roomId, hasOlder, olderCursor]);

  // A mutation's answer is the state at its own seq: a stream event already applied may be newer, so it wins.
  const apply = useCallback(
    (message: ChatMessage) => setMessages((list) => (list.some((m) => m.id === message.id) ? list : mergeMessages(list, [message]))),
    [],
  );

  return {
    messages,
    hasOlder,
    loadingOlder,
    loadOlder,
    typing: [...typing.values()].map((t) => t.name),
    apply,
    ended,
    membershipVersion,
  };
}
