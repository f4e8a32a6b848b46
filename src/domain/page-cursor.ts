import { isUuid } from '../db/ids.js';
import { BadUserInputError } from './errors.js';

/** A key a list is ordered by, one value per sort column. */
export type SortKey = readonly (string | number)[];

/** Arguments of a forward-only Relay connection. */
export interface ForwardPageArgs {
  first?: number | null;
  after?: string | null;
}

/** A page size and the position to start after (null: from the start). */
export interface ForwardPage<K extends SortKey> {
  size: number;
  after: K | null;
}

/** One page of a list ordered by a key: the items and whether more follow. */
export interface KeyedPage<T> {
  items: { cursor: string; node: T }[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/**
 * Cursors of keyset-paged lists (directory, member lists): opaque to clients, `base64url(JSON [list, ...key])`.
 * A cursor names the list it came from, so one from another list is refused rather than misread.
 */
export class PageCursors<K extends SortKey> {
  constructor(
    private readonly list: string,
    /**
     * The shape of a key, checked when a cursor is decoded: 's' for a string, 'u' for a UUID, 'n' for an integer
     * PostgreSQL's `integer` holds, 'i' for a non-negative integer a JavaScript number holds exactly (a `bigint`
     * such as microseconds since 1970). A forged cursor is BAD_USER_INPUT, never a failed statement.
     */
    private readonly shape: readonly ('s' | 'u' | 'n' | 'i')[],
    private readonly sizes: { default: number; max: number },
  ) {}

  encode(key: K): string {
    return Buffer.from(JSON.stringify([this.list, ...key])).toString('base64url');
  }

  /**
   * Validates `first` and `after`.
   * @throws BadUserInputError for a size outside 0..max or a cursor that is malformed or from another list.
   */
  page(args: ForwardPageArgs): ForwardPage<K> {
    const { first, after } = args;
    if (first != null && (first < 0 || first > this.sizes.max)) {
      throw new BadUserInputError(`first must be between 0 and ${this.sizes.max}`, 'first');
    }
    return { size: first ?? this.sizes.default, after: after == null ? null : this.decode(after) };
  }

  /**
   * The page from rows fetched with a limit of `page.size + 1` (the extra row only tells that more follow): each
   * row's node and the cursor of its key.
   */
  toPage<R, T>(page: ForwardPage<K>, rows: readonly R[], keyOf: (row: R) => K, nodeOf: (row: R) => T): KeyedPage<T> {
    const items = rows.slice(0, page.size).map((row) => ({ cursor: this.encode(keyOf(row)), node: nodeOf(row) }));
    return { items, hasNextPage: rows.length > page.size, hasPreviousPage: page.after !== null };
  }

  private decode(cursor: string): K {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      parsed = undefined;
    }
    const valid =
      Array.isArray(parsed) &&
      parsed.length === this.shape.length + 1 &&
      parsed[0] === this.list &&
      this.shape.every((kind, i) => fits(kind, parsed[i + 1]));
    if (!valid) throw new BadUserInputError('after is not a cursor of this list', 'after');
    return (parsed as unknown[]).slice(1) as unknown as K;
  }
}

const INT4_MAX = 2 ** 31 - 1;
/** Longest string a cursor carries: a room name's or username's sort key. */
const KEY_MAX = 400;

function fits(kind: 's' | 'u' | 'n' | 'i', value: unknown): boolean {
  switch (kind) {
    case 'n':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= INT4_MAX;
    case 'i':
      return Number.isSafeInteger(value) && (value as number) >= 0;
    case 'u':
      return typeof value === 'string' && isUuid(value);
    case 's':
      return typeof value === 'string' && value.length <= KEY_MAX && value.isWellFormed() && !value.includes('\u0000');
    default:
      return kind satisfies never;
  }
}

/** `text` with LIKE's wildcards escaped (for `LIKE ... ESCAPE '\'`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
