import { useEffect, useState } from 'react';
import type { ParleyClient } from '../../../src/client/index.js';
import { AppMembersDocument, type AppMembersQuery } from '../__generated__/graphql.js';
import { usePresence } from '../hooks/usePresence.js';
import { useT } from '../i18n.js';

type Member = NonNullable<AppMembersQuery['room']>['members']['edges'][number]['node'];

/**
 * The open room's members, read again on membership events, with their presence kept live by the SDK's `presence`
 * subscription (the status read with the list shows until the subscription's first states arrive).
 */
export function MemberList({ client, roomId, version }: { client: ParleyClient; roomId: string; version: number }) {
  const t = useT();
  const [members, setMembers] = useState<Member[]>([]);
  useEffect(() => {
    let current = true;
    client.request(AppMembersDocument, { roomId }).then(
      ({ room }) => current && setMembers(room?.members.edges.map((e) => e.node) ?? []),
      console.warn,
    );
    return () => void (current = false);
  }, [client, roomId, version]);
  const presence = usePresence(
    client,
    members.map(({ user }) => user.id),
  );
  return (
    <section className="members" aria-label={t.members}>
      <ul>
        {members.map(({ user, role }) => {
          const status = (presence.get(user.id) ?? user.presence).status;
          return (
            <li key={user.id}>
              <span className={`presence presence-${status}`} aria-hidden="true" />
              <span>{user.username}</span>
              <span className="hint">
                {t.presence[status]}
                {role === 'OWNER' ? ` · ${t.owner}` : ''}
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
