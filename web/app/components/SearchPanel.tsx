import { useEffect, useState, type ReactNode } from 'react';
import type { ParleyClient } from '../../../src/client/index.js';
import { AppSearchDocument, type AppSearchQuery } from '../__generated__/graphql.js';
import { useT } from '../i18n.js';
import { useDebounced } from '../hooks/useDebounced.js';
import type { JumpTarget } from '../hooks/useTimeline.js';

type Hit = AppSearchQuery['searchMessages']['edges'][number];

/** The server marks matches as «match» in `highlight`: shown as <mark>. */
function highlighted(text: string): ReactNode[] {
  return text.split(/(«[^»]*»)/).map((part, i) => (part.startsWith('«') && part.endsWith('»') ? <mark key={i}>{part.slice(1, -1)}</mark> : part));
}

/** Full-text search over the rooms the viewer is a member of; a result opens its room at the matched message. */
export function SearchPanel({ client, onOpen, onClose }: { client: ParleyClient; onOpen(roomId: string, at: JumpTarget): void; onClose(): void }) {
  const t = useT();
  const [search, setSearch] = useState('');
  const query = useDebounced(search.trim(), 300);
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!query) return setHits(null);
    let current = true;
    client.request(AppSearchDocument, { query: query.slice(0, 100) }).then(
      ({ searchMessages }) => current && (setHits(searchMessages.edges), setError(null)),
      (e: unknown) => current && setError(e instanceof Error ? e.message : t.error),
    );
    return () => void (current = false);
  }, [client, query, t]);
  return (
    <section className="panel" aria-label={t.search}>
      <div className="panel-head">
        <h2 className="section-title">{t.search}</h2>
        <button type="button" className="small secondary" onClick={onClose}>
          {t.close}
        </button>
      </div>
      <input type="search" aria-label={t.searchQuery} placeholder={t.searchQuery} value={search} autoFocus onChange={(e) => setSearch(e.target.value)} />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {hits && hits.length === 0 && <p className="hint">{t.noResults}</p>}
      <ul className="results search-results">
        {hits?.map((hit) => (
          <li key={hit.node.id}>
            <button type="button" className="result" onClick={() => onOpen(hit.node.room.id, { messageId: hit.node.id, cursor: hit.node.cursor })}>
              <span className="hint">
                #{hit.node.room.name} · {hit.node.author.username}
              </span>
              <span className="snippet">{highlighted(hit.highlight)}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
