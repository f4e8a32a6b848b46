import { useState, type KeyboardEvent } from 'react';
import type { AppUserFragment } from '../__generated__/graphql.js';
import { useT } from '../i18n.js';
import type { ChatMessage } from '../hooks/useTimeline.js';

/** The quick reactions offered on every message. */
const QUICK_REACTIONS = ['👍', '❤️', '😂', '🎉'];

interface Props {
  message: ChatMessage;
  me: AppUserFragment;
  /** Just jumped to (a search result): shown highlighted for a moment. */
  highlighted?: boolean;
  onReply(): void;
  onEdit(body: string): void;
  onDelete(): void;
  onReact(emoji: string, add: boolean): void;
}

function time(iso: string, locale: string): string {
  return new Date(iso).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
}

/** One message: an article with its author, time, body, reply quote, reactions and actions. */
/** The quoted message's first line, at most this many characters. */
const EXCERPT_CHARS = 140;

function excerpt(body: string): string {
  const line = body.trim().split('\n', 1)[0] ?? '';
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS - 1)}…` : line;
}

export function MessageItem({ message, me, highlighted = false, onReply, onEdit, onDelete, onReact }: Props) {
  const t = useT();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(message.body);
  const own = message.author.id === me.id;
  const deleted = message.deletedAt !== null;
  const mentionsMe = message.mentions.some((u) => u.id === me.id);
  const headingId = `message-${message.id}-author`;
  const quoted = message.replyTo;

  const saveEdit = () => {
    const body = draft.trim();
    if (body && body !== message.body) onEdit(body);
    setEditing(false);
  };
  const onEditKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      saveEdit();
    } else if (event.key === 'Escape') setEditing(false);
  };

  return (
    <article
      className={`message${own ? ' own' : ''}${mentionsMe ? ' mentions-me' : ''}${deleted ? ' deleted' : ''}${highlighted ? ' highlighted' : ''}`}
      aria-labelledby={headingId}
      data-message-id={message.id}
    >
      <div className="message-meta">
        <span className="author" id={headingId}>
          {message.author.username}
        </span>
        <time dateTime={message.createdAt}>{time(message.createdAt, t.locale)}</time>
        {message.editedAt && !deleted && <span className="edited">({t.edited})</span>}
      </div>
      {quoted && (
        <blockquote className="reply-quote">
          <span className="author">{quoted.author.username}</span> {quoted.deletedAt ? <em>{t.deleted}</em> : excerpt(quoted.body)}
        </blockquote>
      )}
      {editing ? (
        <div className="edit">
          <textarea aria-label={t.edit} value={draft} autoFocus rows={2} onChange={(e) => setDraft(e.target.value)} onKeyDown={onEditKey} />
          <button type="button" className="small" onClick={saveEdit}>
            {t.save}
          </button>
          <button type="button" className="small secondary" onClick={() => setEditing(false)}>
            {t.cancel}
          </button>
        </div>
      ) : (
        <p className="body">{deleted ? <em>{t.deleted}</em> : message.body}</p>
      )}
      {!deleted && (
        <div className="message-footer">
          {message.reactions.length > 0 && (
            <ul className="reactions" aria-label={t.reactions}>
              {message.reactions.map((r) => (
                <li key={r.emoji}>
                  <button type="button" className={`reaction${r.reactedByMe ? ' mine' : ''}`} aria-pressed={r.reactedByMe} onClick={() => onReact(r.emoji, !r.reactedByMe)}>
                    {t.reactionCount(r.emoji, r.count)}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <div className="message-actions">
            {QUICK_REACTIONS.filter((emoji) => !message.reactions.some((r) => r.emoji === emoji && r.reactedByMe)).map((emoji) => (
              <button key={emoji} type="button" className="icon" aria-label={t.react(emoji)} title={t.react(emoji)} onClick={() => onReact(emoji, true)}>
                {emoji}
              </button>
            ))}
            <button type="button" className="link" onClick={onReply}>
              {t.reply}
            </button>
            {own && !editing && (
              <button type="button" className="link" onClick={() => (setDraft(message.body), setEditing(true))}>
                {t.edit}
              </button>
            )}
            {own && (
              <button type="button" className="link danger" onClick={onDelete}>
                {t.delete}
              </button>
            )}
          </div>
        </div>
      )}
    </article>
  );
}
