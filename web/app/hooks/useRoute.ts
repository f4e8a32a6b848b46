import { useCallback, useEffect, useState } from 'react';

/** The open room's id from the URL (/rooms/<id>); `open(null)` goes back to /. History entries work with Back. */
export function useRoomRoute(): [string | null, (roomId: string | null) => void] {
  const read = () => {
    const match = /^\/rooms\/([^/]+)$/.exec(window.location.pathname);
    return match?.[1] ? decodeURIComponent(match[1]) : null;
  };
  const [roomId, setRoomId] = useState<string | null>(read);
  useEffect(() => {
    const onPop = () => setRoomId(read());
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const open = useCallback((next: string | null) => {
    const path = next ? `/rooms/${encodeURIComponent(next)}` : '/';
    if (window.location.pathname !== path) window.history.pushState(null, '', path);
    setRoomId(next);
  }, []);
  return [roomId, open];
}
