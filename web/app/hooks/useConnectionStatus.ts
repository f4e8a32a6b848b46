import { useEffect, useState } from 'react';
import type { ConnectionStatus, ParleyClient } from '../../../src/client/index.js';

/** `client.status`, re-rendered on each change. */
export function useConnectionStatus(client: ParleyClient): ConnectionStatus {
  const [status, setStatus] = useState(client.status);
  useEffect(() => {
    setStatus(client.status);
    return client.onStatus(setStatus);
  }, [client]);
  return status;
}
