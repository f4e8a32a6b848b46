// The open room: its history (paged backwards), then its live events through the SDK's roomEvents, read from the
// room's cursor taken before the history so nothing falls between the two; typing from TypingChanged. Opened at a
// message (a search result), the history is the window around it, paged forwards as well until the newest is in.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ParleyClient, RoomEvent } from '../../../src/client/index.js';
import { AppMessagesAfterDocument, AppMessagesDocument, AppRoomDocument, type AppMessageFragment } from '../__generated__/graphql.js';

export type ChatMessage = AppMessageFragment;

/** Typing stops showing this long after the last TypingChanged (the server expires it after 6 s). */
const TYPING_SHOWN_MS = 7_000;
const PAGE = 50;
/** Opened at a message: this many messages before it, and it with the ones after it. */
const AROUND = 25;

/** A message to open the room at (a search result): its id and cursor; a new object on each jump. */
export interface JumpTarget {
  messageId: string;
  cursor: string;
}

export interface Timeline {
  messages: ChatMessage[];
  hasOlder: boolean;
  loadingOlder: boolean;
  loadOlder(): Promise<void>;
  /** Newer messages exist past the loaded ones (opened at an older message): page them in with loadNewer. */
  hasNewer: boolean;
  loadingNewer: boolean;
  loadNewer(): Promise<void>;
  /** The jump whose window around its message is loaded (null when the room opened at the newest). */
  openedAt: JumpTarget | null;
  /** Who is typing now (not the viewer). */
  typing: string[];
  /** Shows a message the app received as a send's answer, unless the stream delivered it already. */
  apply(message: ChatMessage): void;
  /** The room's stream ended (left, removed, gone): the error's message. */
  ended: unknown;
  /** Increments on each membership change, so a member list can refresh. */
  membershipVersion: number;
}

/** An edit, delete or reaction of a message: replaces it where loaded, and refreshes the quotes of replies to it. */
function updateMessage(list: ChatMessage[], message: ChatMessage): ChatMessage[] {
  const quote = { id: message.id, body: message.body, deletedAt: message.deletedAt, author: { id: message.author.id, username: message.author.username } };
  let changed = false;
  const next = list.map((m) => {
    if (m.id === message.id) return (changed = true), message;
    if (m.replyTo?.id === message.id) return (changed = true), { ...m, replyTo: quote };
    return m;
  });
  return changed ? next : list;
}

function mergeMessages(list: ChatMessage[], incoming: ChatMessage[]): ChatMessage[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

export function useTimeline(client: ParleyClient, roomId: string, meId: string, jump: JumpTarget | null = null): Timeline {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [olderCursor, setOlderCursor] = useState<string | null>(null);
  const [hasOlder, setHasOlder] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [newerCursor, setNewerCursor] = useState<string | null>(null);
  const [hasNewer, setHasNewer] = useState(false);
  const [loadingNewer, setLoadingNewer] = useState(false);
  const [openedAt, setOpenedAt] = useState<JumpTarget | null>(null);
  // While newer messages are not loaded yet, new ones from the stream wait here (a gap must not open in the list).
  const detached = useRef(false);
  const held = useRef(new Map<string, ChatMessage>());
  const loadingNewerRef = useRef(false);
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
    setHasNewer(false);
    setNewerCursor(null);
    setOpenedAt(null);
    detached.current = false;
    held.current = new Map();
    setTyping(new Map());
    setEnded(null);

    const onEvent = (event: RoomEvent) => {
      switch (event.__typename) {
        case 'MessageAdded':
        case 'MessageEdited':
        case 'MessageDeleted':
        case 'ReactionChanged':
          if (event.__typename !== 'MessageAdded') {
            // Only loaded messages (and the quotes of loaded replies) change: an older one is not put in a gap.
            const message = event.message;
            if (detached.current && held.current.has(message.id)) held.current.set(message.id, message);
            setMessages((list) => updateMessage(list, message));
          } else if (detached.current) held.current.set(event.message.id, event.message);
          else setMessages((list) => mergeMessages(list, [event.message]));
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
      if (jump) {
        // The window around the message: the ones before it, then it and the ones after it.
        const older = (await client.request(AppMessagesDocument, { roomId, last: AROUND, before: jump.cursor })).messages;
        const newer = (await client.request(AppMessagesAfterDocument, { roomId, first: AROUND, after: older.pageInfo.endCursor ?? null })).messages;
        if (cancelled) return;
        detached.current = newer.pageInfo.hasNextPage;
        setMessages(mergeMessages(older.edges.map((e) => e.node), newer.edges.map((e) => e.node)));
        setHasOlder(older.pageInfo.hasPreviousPage);
        setOlderCursor(older.pageInfo.startCursor ?? newer.edges[0]?.node.cursor ?? null);
        setHasNewer(newer.pageInfo.hasNextPage);
        setNewerCursor(newer.pageInfo.endCursor ?? null);
        setOpenedAt(jump);
      } else {
        const page = (await client.request(AppMessagesDocument, { roomId, last: PAGE, before: null })).messages;
        if (cancelled) return;
        setMessages(page.edges.map((e) => e.node));
        setHasOlder(page.pageInfo.hasPreviousPage);
        setOlderCursor(page.pageInfo.startCursor ?? null);
      }
      stream = client.roomEvents(roomId, {
        after: room.cursor,
        onEvent,
        onResync: async ({ fetchHistory }) => {
          const fresh = await fetchHistory({ last: PAGE });
          detached.current = false;
          held.current = new Map();
          setHasNewer(false);
          setNewerCursor(null);
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
  }, [client, roomId, meId, jump]);

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

  const loadNewer = useCallback(async () => {
    if (loadingNewerRef.current || !hasNewer || !newerCursor) return;
    loadingNewerRef.current = true;
    setLoadingNewer(true);
    try {
      const page = (await client.request(AppMessagesAfterDocument, { roomId, first: PAGE, after: newerCursor })).messages;
      const loaded = page.edges.map((e) => e.node);
      if (!page.pageInfo.hasNextPage) {
        // The newest is in: what the stream delivered meanwhile follows, and the stream is applied directly again.
        const seen = new Set(loaded.map((m) => m.id));
        loaded.push(...[...held.current.values()].filter((m) => !seen.has(m.id)));
        held.current = new Map();
        detached.current = false;
      }
      setMessages((list) => mergeMessages(list, loaded));
      setHasNewer(page.pageInfo.hasNextPage);
      setNewerCursor(page.pageInfo.endCursor ?? newerCursor);
    } finally {
      loadingNewerRef.current = false;
      setLoadingNewer(false);
    }
  }, [client, roomId, hasNewer, newerCursor]);

  // A mutation's answer is the state at its own seq: a stream event already applied may be newer, so it wins.
  const apply = useCallback((message: ChatMessage) => {
    if (detached.current) {
      if (!held.current.has(message.id)) held.current.set(message.id, message);
      return;
    }
    setMessages((list) => (list.some((m) => m.id === message.id) ? list : mergeMessages(list, [message])));
  }, []);

  return {
    messages,
    hasOlder,
    loadingOlder,
    loadOlder,
    hasNewer,
    loadingNewer,
    loadNewer,
    openedAt,
    typing: [...typing.values()].map((t) => t.name),
    apply,
    ended,
    membershipVersion,
  };
}
