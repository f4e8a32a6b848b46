import type DataLoader from 'dataloader';

/** Loads a row a foreign key points at; its absence is a broken invariant, so it is an internal error. */
export async function loadOrFail<T>(loader: DataLoader<string, T | null>, id: string, what: string): Promise<T> {
  const row = await loader.load(id);
  if (row === null) throw new Error(`${what} ${id} referenced but missing`);
  return row;
}
