import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { ParleyClient } from '../../../src/client/index.js';
import {
  AppAddReactionDocument,
  AppDeleteMessageDocument,
  AppEditMessageDocument,
  AppLeaveRoomDocument,
  AppMarkReadDocument,
  AppRemoveReactionDocument,
  type AppRoomFragment,
  type AppUserFragment,
} from '../__generated__/graphql.js';
import { useT } from '../i18n.js';
import { useTimeline, type ChatMessage, type JumpTarget } from '../hooks/useTimeline.js';
import { Composer } from './Composer.js';
import { MemberList } from './MemberList.js';
import { MessageItem } from './MessageItem.js';
import { PeopleSearch } from './PeopleSearch.js';

interface Props {
  client: ParleyClient;
  me: AppUserFragment;
  roomId: string;
  room: AppRoomFragment | null;
  onBack(): void;
  onSeen(roomId: string, room?: AppRoomFragment): void;
  onLeft(): void;
  onSent(): void;
  /** Open the room at this message (a search result) instead of at the newest. */
  jump?: JumpTarget | null;
  /** The reader left the jumped-to place for the newest messages (a send): open at the newest from now on. */
  onJumpLeft?(): void;
}

/** Paging starts when the log is scrolled to within this many pixels of its top (or, forwards, of its bottom). */
const PAGE_AT_PX = 120;
/** How long a jumped-to message stays highlighted. */
const HIGHLIGHT_MS = 3_000;

/** The open room: its messages (a log of articles), what is waiting to send, who is typing, and the composer. */
export function RoomView({ client, me, roomId, room, onBack, onSeen, onLeft, onSent, jump = null, onJumpLeft }: Props) {
  const t = useT();
  const timeline = useTimeline(client, roomId, me.id, jump);
  const [highlight, setHighlight] = useState<string | null>(null);
  const scrolledTo = useRef<JumpTarget | null>(null);
  const [panel, setPanel] = useState<'members' | 'invite' | null>(null);
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [, setPendingTick] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const logRef = useRef<HTMLDivElement>(null);
  const nearBottom = useRef(true);
  const heightBefore = useRef<{ first: string | undefined; height: number; detached: boolean } | null>(null);
  const markedSeq = useRef(0);
  const name = room?.name ?? '';

  // Keep the reader's place: at the bottom while new messages come, and still when older ones are put above.
  useLayoutEffect(() => {
    const log = logRef.current;
    if (!log) return;
    const before = heightBefore.current;
    const first = timeline.messages[0]?.id;
    const prepended = before?.first !== undefined && before.first !== first && timeline.messages.some((m) => m.id === before.first);
    if (before && prepended) log.scrollTop += log.scrollHeight - before.height;
    else if (timeline.openedAt && scrolledTo.current !== timeline.openedAt) {
      const jump = timeline.openedAt;
      // Opened at a message: once it is loaded, bring it into view and highlight it for a moment.
      const target = log.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(jump.messageId)}"]`);
      if (target) {
        scrolledTo.current = jump;
        nearBottom.current = false;
        target.scrollIntoView({ block: 'center' });
        setHighlight(jump.messageId);
      }
    } else if (nearBottom.current && !before?.detached) log.scrollTop = log.scrollHeight;
    heightBefore.current = { first: timeline.messages[0]?.id, height: log.scrollHeight, detached: timeline.hasNewer };
  });

  useEffect(() => {
    if (!highlight) return;
    const timer = setTimeout(() => setHighlight(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlight]);

  // The sends waiting for the server's answer are shown as pending articles: render again whenever they change.
  useEffect(() => client.onPendingSends(() => setPendingTick((n) => n + 1)), [client]);

  // Read state: mark the newest message read while the page is visible.
  useEffect(() => {
    const mark = () => {
      const seq = timeline.messages.at(-1)?.seq ?? 0;
      // Opened at an older message, the room is read once the newest is loaded.
      if (timeline.hasNewer || document.visibilityState !== 'visible' || seq <= markedSeq.current) return;
      markedSeq.current = seq;
      client.request(AppMarkReadDocument, { roomId, seq }).then(({ markRead }) => onSeen(roomId, markRead), console.warn);
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [client, roomId, timeline.messages, timeline.hasNewer, onSeen]);

  const onScroll = () => {
    const log = logRef.current;
    if (!log) return;
    nearBottom.current = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
    if (log.scrollTop < PAGE_AT_PX && timeline.hasOlder && !timeline.loadingOlder) void timeline.loadOlder();
    if (log.scrollHeight - log.scrollTop - log.clientHeight < PAGE_AT_PX && timeline.hasNewer && !timeline.loadingNewer) void timeline.loadNewer();
  };

  const run = (work: Promise<unknown>) => void work.then(() => setError(null), (e: unknown) => setError(e instanceof Error ? e.message : t.error));
  const send = (body: string) => {
    const sending = client.sendMessage({ roomId, body, replyToId: replyTo?.id ?? null });
    setReplyTo(null);
    nearBottom.current = true;
    // Reading older messages (opened at a search result): a send goes back to the newest, where it shows.
    if (timeline.hasNewer) onJumpLeft?.();
    setPendingTick((n) => n + 1);
    onSent();
    sending.then(
      (message) => (timeline.apply(message), setPendingTick((n) => n + 1), onSent()),
      (e: unknown) => (setError(e instanceof Error ? e.message : t.error), setPendingTick((n) => n + 1), onSent()),
    );
  };
  const stored = new Set(timeline.messages.map((m) => m.clientMessageId));
  const pending = client.pendingSends.filter((p) => p.roomId === roomId && !stored.has(p.clientMessageId));
  const isDirect = room?.kind === 'DIRECT';

  return (
    <section className="room" aria-labelledby="room-title">
      <header className="room-header">
        <button type="button" className="back small secondary" onClick={onBack} aria-label={t.backToRooms}>
          ←
        </button>
        <h2 id="room-title">
          {isDirect ? '@' : '#'}
          {name}
        </h2>
        {room && !isDirect && <span className="member-count">{t.memberCount(room.memberCount)}</span>}
        <div className="room-actions">
          <button type="button" className="small secondary" aria-expanded={panel === 'members'} onClick={() => setPanel((p) => (p === 'members' ? null : 'members'))}>
            {t.members}
          </button>
          {!isDirect && (
            <>
              <button type="button" className="small secondary" aria-expanded={panel === 'invite'} onClick={() => setPanel((p) => (p === 'invite' ? null : 'invite'))}>
                {t.invite}
              </button>
              <button type="button" className="small secondary" onClick={() => run(client.request(AppLeaveRoomDocument, { roomId }).then(onLeft))}>
                {t.leave}
              </button>
            </>
          )}
        </div>
      </header>
      {panel === 'members' && <MemberList client={client} roomId={roomId} version={timeline.membershipVersion} />}
      {panel === 'invite' && <PeopleSearch client={client} mode="invite" roomId={roomId} onClose={() => setPanel(null)} />}
      {timeline.ended ? (
        <p className="error" role="alert">
          {timeline.ended instanceof Error ? timeline.ended.message : t.error}
        </p>
      ) : null}
      <div className="log" role="log" aria-label={name || roomId} ref={logRef} onScroll={onScroll} tabIndex={0}>
        {timeline.hasOlder ? (
          <button type="button" className="small secondary load-older" disabled={timeline.loadingOlder} onClick={() => void timeline.loadOlder()}>
            {t.loadOlder}
          </button>
        ) : (
          <p className="hint beginning">{t.beginning}</p>
        )}
        {timeline.messages.map((message) => (
          <MessageItem
            key={message.id}
            message={message}
            me={me}
            highlighted={highlight === message.id}
            onReply={() => setReplyTo(message)}
            onEdit={(body) => run(client.request(AppEditMessageDocument, { messageId: message.id, body }))}
            onDelete={() => run(client.request(AppDeleteMessageDocument, { messageId: message.id }))}
            onReact={(emoji, add) =>
              run(
                add
                  ? client.request(AppAddReactionDocument, { messageId: message.id, emoji })
                  : client.request(AppRemoveReactionDocument, { messageId: message.id, emoji }),
              )
            }
          />
        ))}
        {timeline.hasNewer && (
          <button type="button" className="small secondary load-newer" disabled={timeline.loadingNewer} onClick={() => void timeline.loadNewer()}>
            {t.loadNewer}
          </button>
        )}
        {pending.map((p) => (
          <article key={p.clientMessageId} className="message pending" aria-busy="true">
            <div className="message-meta">
              <span className="author">{me.username}</span>
              <span className="sending">{t.sending}</span>
            </div>
            <p className="body">{p.body}</p>
          </article>
        ))}
      </div>
      <p className="typing" aria-live="polite">
        {timeline.typing.length > 0 ? t.typing(timeline.typing) : ''}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <Composer client={client} roomId={roomId} roomName={name} replyTo={replyTo} onCancelReply={() => setReplyTo(null)} onSend={send} />
    </section>
  );
}
