import { useEffect, useState } from 'react';
import type { ParleyClient } from '../../../src/client/index.js';
import { AppMembersDocument, type AppMembersQuery } from '../__generated__/graphql.js';
import { useT } from '../i18n.js';

type Member = NonNullable<AppMembersQuery['room']>['members']['edges'][number]['node'];

/** Presence is read again this often while the list is open (the SDK follows rooms and inboxes, not presence). */
const REFRESH_MS = 20_000;

/** The open room's members with their presence, refreshed on membership events and periodically. */
export function MemberList({ client, roomId, version }: { client: ParleyClient; roomId: string; version: number }) {
  const t = useT();
  const [members, setMembers] = useState<Member[]>([]);
  useEffect(() => {
    let current = true;
    const load = () =>
      client.request(AppMembersDocument, { roomId }).then(
        ({ room }) => current && setMembers(room?.members.edges.map((e) => e.node) ?? []),
        console.warn,
      );
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => ((current = false), clearInterval(timer));
  }, [client, roomId, version]);
  return (
    <section className="members" aria-label={t.members}>
      <ul>
        {members.map(({ user, role }) => (
          <li key={user.id}>
            <span className={`presence presence-${user.presence.status}`} aria-hidden="true" />
            <span>{user.username}</span>
            <span className="hint">
              {t.presence[user.presence.status]}
              {role === 'OWNER' ? ` · ${t.owner}` : ''}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
