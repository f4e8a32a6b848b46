import { useEffect, useState } from 'react';
import type { ParleyClient } from '../../../src/client/index.js';
import { AppInviteDocument, AppOpenDirectRoomDocument, AppUsersDocument, type AppRoomFragment, type AppUserFragment } from '../__generated__/graphql.js';
import { useT } from '../i18n.js';
import { useDebounced } from '../hooks/useDebounced.js';

type Props =
  | { client: ParleyClient; mode: 'invite'; roomId: string; onClose(): void }
  | { client: ParleyClient; mode: 'direct'; onDirectRoom(room: AppRoomFragment): void; onClose(): void };

/** Finds users by username prefix, to invite them to the open room or to open a direct room with them. */
export function PeopleSearch(props: Props) {
  const { client, onClose } = props;
  const t = useT();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim(), 250);
  const [users, setUsers] = useState<AppUserFragment[]>([]);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!query) return setUsers([]);
    let current = true;
    client.request(AppUsersDocument, { search: query }).then(
      ({ users: found }) => current && setUsers(found.edges.map((e) => e.node)),
      (e: unknown) => current && setError(e instanceof Error ? e.message : t.error),
    );
    return () => void (current = false);
  }, [client, query, t]);
  const choose = async (user: AppUserFragment) => {
    try {
      setError(null);
      if (props.mode === 'invite') {
        await client.request(AppInviteDocument, { roomId: props.roomId, userId: user.id });
        setDone(t.invited(user.username));
      } else {
        props.onDirectRoom((await client.request(AppOpenDirectRoomDocument, { userId: user.id })).openDirectRoom);
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : t.error);
    }
  };
  const title = props.mode === 'invite' ? t.invite : t.directMessage;
  return (
    <section className="panel" aria-label={title}>
      <div className="panel-head">
        <h2 className="section-title">{title}</h2>
        <button type="button" className="small secondary" onClick={onClose}>
          {t.close}
        </button>
      </div>
      <input type="search" aria-label={t.findPeople} placeholder={t.findPeople} value={search} autoFocus onChange={(e) => setSearch(e.target.value)} />
      <p aria-live="polite" className="hint">{done}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ul className="results">
        {users.map((user) => (
          <li key={user.id}>
            <span>@{user.username}</span>
            <button type="button" className="small" onClick={() => void choose(user)}>
              {props.mode === 'invite' ? t.inviteTo(user.username) : t.messageUser(user.username)}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
