import type { ConnectionStatus } from '../../../src/client/index.js';
import { useT } from '../i18n.js';

/** The connection state, announced politely to screen readers (role status). */
export function StatusBar({ status, pending }: { status: ConnectionStatus; pending: number }) {
  const t = useT();
  return (
    <p role="status" className={`connection connection-${status}`} data-status={status}>
      <span className="dot" aria-hidden="true" />
      {t.status[status]}
      {pending > 0 && <span className="pending-count"> · {t.pendingCount(pending)}</span>}
    </p>
  );
}
