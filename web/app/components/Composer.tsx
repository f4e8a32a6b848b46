import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ParleyClient } from '../../../src/client/index.js';
import { AppSetTypingDocument } from '../__generated__/graphql.js';
import { useT } from '../i18n.js';
import type { ChatMessage } from '../hooks/useTimeline.js';

/** setTyping(true) at most this often while the user types (the server expires it 6 s after the last). */
const TYPING_EVERY_MS = 3_000;

interface Props {
  client: ParleyClient;
  roomId: string;
  roomName: string;
  replyTo: ChatMessage | null;
  onCancelReply(): void;
  onSend(body: string): void;
}

/** The message box: Enter sends (Shift+Enter for a new line; never while an input method is composing). */
export function Composer({ client, roomId, roomName, replyTo, onCancelReply, onSend }: Props) {
  const t = useT();
  const [body, setBody] = useState('');
  const typingSentAt = useRef(0);
  const input = useRef<HTMLTextAreaElement>(null);

  const typing = (isTyping: boolean) => void client.request(AppSetTypingDocument, { roomId, isTyping }).catch(() => undefined);
  const stopTyping = () => {
    if (typingSentAt.current === 0) return;
    typingSentAt.current = 0;
    typing(false);
  };
  useEffect(() => () => stopTyping(), [roomId]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    if (replyTo) input.current?.focus();
  }, [replyTo]);

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const text = body.trim();
    if (!text) return;
    onSend(text);
    setBody('');
    stopTyping();
  };
  const onChange = (value: string) => {
    setBody(value);
    if (!value.trim()) return stopTyping();
    if (Date.now() - typingSentAt.current > TYPING_EVERY_MS) {
      typingSentAt.current = Date.now();
      typing(true);
    }
  };
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
    else if (event.key === 'Escape' && replyTo) onCancelReply();
  };

  return (
    <form className="composer" onSubmit={submit}>
      {replyTo && (
        <p className="replying">
          {t.replyingTo(replyTo.author.username)}: <span className="quote">{replyTo.body.slice(0, 80)}</span>
          <button type="button" className="link" onClick={onCancelReply}>
            {t.cancel}
          </button>
        </p>
      )}
      <div className="composer-row">
        <textarea
          ref={input}
          aria-label="Message"
          rows={1}
          value={body}
          placeholder={t.messagePlaceholder(roomName)}
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={onKeyDown}
          autoFocus
        />
        <button type="submit" aria-label="Send">
          {t.send}
        </button>
      </div>
    </form>
  );
}
