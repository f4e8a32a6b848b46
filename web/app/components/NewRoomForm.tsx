import { useState, type FormEvent } from 'react';
import type { ParleyClient } from '../../../src/client/index.js';
import { AppCreateRoomDocument, type AppRoomFragment } from '../__generated__/graphql.js';
import { useT } from '../i18n.js';

/** "New room": a name and whether the room is private. */
export function NewRoomForm({ client, onCreated, onCancel }: { client: ParleyClient; onCreated(room: AppRoomFragment): void; onCancel(): void }) {
  const t = useT();
  const [name, setName] = useState('');
  const [isPrivate, setPrivate] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const { createRoom } = await client.request(AppCreateRoomDocument, { name: name.trim(), kind: isPrivate ? 'PRIVATE' : 'PUBLIC' });
      onCreated(createRoom);
    } catch (e) {
      setError(e instanceof Error ? e.message : t.error);
    }
  };
  return (
    <form className="panel" onSubmit={(e) => void submit(e)} aria-label={t.newRoom}>
      <label>
        <span>{t.roomName}</span>
        <input aria-label="Room name" value={name} required autoFocus onChange={(e) => setName(e.target.value)} />
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} />
        <span>{t.privateRoom}</span>
      </label>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="panel-actions">
        <button type="submit" aria-label="Create room">
          {t.create}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          {t.cancel}
        </button>
      </div>
    </form>
  );
}
