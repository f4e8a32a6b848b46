import { useEffect, useState } from 'react';
import type { ParleyClient, PresenceChange } from '../../../src/client/index.js';

export type PresenceState = PresenceChange['presence'];

/**
 * The live presence of `userIds` (at most 100), by user id, through the SDK's `presence` subscription: the
 * current state of each first, then every change; after a reconnect the current state again. Empty until the
 * first states arrive (callers fall back to what they read with the list).
 */
export function usePresence(client: ParleyClient, userIds: readonly string[]): ReadonlyMap<string, PresenceState> {
  const [states, setStates] = useState<ReadonlyMap<string, PresenceState>>(new Map());
  // One subscription per set of users, whatever the order or the array's identity.
  const key = [...new Set(userIds)].sort().join(',');
  useEffect(() => {
    setStates(new Map());
    if (!key) return;
    const ids = key.split(',').slice(0, 100);
    const watch = client.presence(ids, {
      onChange: ({ user, presence }) => setStates((previous) => new Map(previous).set(user.id, presence)),
      onError: console.warn,
    });
    return () => watch.unsubscribe();
  }, [client, key]);
  return states;
}
