import { useEffect, useState } from 'react';
import type { ParleyClient } from '../../../src/client/index.js';
import { AppJoinRoomDocument, AppPublicRoomsDocument, type AppRoomFragment } from '../__generated__/graphql.js';
import { useT } from '../i18n.js';
import { useDebounced } from '../hooks/useDebounced.js';

interface Props {
  client: ParleyClient;
  onJoined(room: AppRoomFragment): void;
  onOpen(roomId: string): void;
  onClose(): void;
}

/** The public room directory (most members first), searchable by name; join or open a room. */
export function Directory({ client, onJoined, onOpen, onClose }: Props) {
  const t = useT();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim(), 250);
  const [rooms, setRooms] = useState<AppRoomFragment[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    client.request(AppPublicRoomsDocument, { search: query || null, after: null }).then(
      ({ publicRooms }) => current && setRooms(publicRooms.edges.map((e) => e.node)),
      (e: unknown) => current && setError(e instanceof Error ? e.message : t.error),
    );
    return () => void (current = false);
  }, [client, query, t]);
  const join = async (room: AppRoomFragment) => {
    try {
      onJoined((await client.request(AppJoinRoomDocument, { roomId: room.id })).joinRoom);
    } catch (e) {
      setError(e instanceof Error ? e.message : t.error);
    }
  };
  return (
    <section className="panel" aria-label={t.directory}>
      <div className="panel-head">
        <h2 className="section-title">{t.directory}</h2>
        <button type="button" className="small secondary" onClick={onClose}>
          {t.close}
        </button>
      </div>
      <input type="search" aria-label={t.searchRooms} placeholder={t.searchRooms} value={search} autoFocus onChange={(e) => setSearch(e.target.value)} />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ul className="results">
        {rooms.map((room) => (
          <li key={room.id}>
            <span>
              #{room.name} <span className="hint">{t.memberCount(room.memberCount)}</span>
            </span>
            {room.isMember ? (
              <button type="button" className="small secondary" onClick={() => onOpen(room.id)}>
                {t.joined}
              </button>
            ) : (
              <button type="button" className="small" aria-label={`${t.join} ${room.name}`} onClick={() => void join(room)}>
                {t.join}
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
