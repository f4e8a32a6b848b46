import type { KeyedPage } from '../../domain/page-cursor.js';

/** A keyed page as a Relay connection. */
export function toConnection<T>(page: KeyedPage<T>) {
  const { items } = page;
  return {
    edges: items,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: items[0]?.cursor ?? null,
      endCursor: items.at(-1)?.cursor ?? null,
    },
  };
}
