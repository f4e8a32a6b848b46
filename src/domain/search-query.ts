import { BadUserInputError } from './errors.js';
import { searchTokens, type SearchToken } from './search-text.js';
import { requireStorableText } from './storable-text.js';

/** The longest query, in characters (code points) after trimming. */
export const SEARCH_QUERY_MAX = 100;
/** The most tokens (words and CJK characters) a query may have: each one is looked up in every room of the viewer. */
export const SEARCH_TOKENS_MAX = 32;
/** A last word shorter than this matches whole only: a one-letter prefix would match most of the index. */
const PREFIX_MIN = 2;

/**
 * One whitespace-separated term of a query: its tokens must appear one right after another (`e-mail`, `北京`,
 * `Parley支持`), the last one as a prefix when `prefix` is set.
 */
export interface SearchTerm {
  lexemes: string[];
  cjk: boolean[];
  prefix: boolean;
}

/** A parsed query: every term must match. No terms (a query of punctuation only) matches nothing. */
export interface SearchQuery {
  terms: SearchTerm[];
  /** `to_tsquery('simple', ...)` input: each token quoted, so no text of the user's is read as an operator. */
  tsquery: string;
}

/**
 * Parses a search as typed: terms separated by whitespace, all required; words match whole words, ignoring case,
 * the last word of the query also as a prefix (when it has at least 2 characters); Chinese, Japanese and Korean
 * characters match as a substring (adjacent characters).
 * @throws BadUserInputError for a blank query, one longer than SEARCH_QUERY_MAX characters or SEARCH_TOKENS_MAX
 *   tokens, or unstorable text.
 */
export function parseSearchQuery(query: string): SearchQuery {
  requireStorableText(query, 'query');
  const text = query.trim();
  if (text === '') throw new BadUserInputError('query must not be blank', 'query');
  if ([...text].length > SEARCH_QUERY_MAX) throw new BadUserInputError(`query must have at most ${SEARCH_QUERY_MAX} characters`, 'query');
  const terms: SearchTerm[] = [];
  for (const word of text.split(/\s+/u)) {
    const tokens: SearchToken[] = searchTokens(word);
    if (tokens.length > 0) terms.push({ lexemes: tokens.map((t) => t.lexeme), cjk: tokens.map((t) => t.cjk), prefix: false });
  }
  if (terms.reduce((n, term) => n + term.lexemes.length, 0) > SEARCH_TOKENS_MAX) {
    throw new BadUserInputError(`query must have at most ${SEARCH_TOKENS_MAX} words and characters`, 'query');
  }
  const last = terms.at(-1);
  if (last && !last.cjk.at(-1) && [...last.lexemes.at(-1)!].length >= PREFIX_MIN) last.prefix = true;
  return { terms, tsquery: terms.map(termToTsquery).join(' & ') };
}

function termToTsquery(term: SearchTerm): string {
  const quoted = term.lexemes.map((lexeme) => `'${lexeme.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`);
  if (term.prefix) quoted[quoted.length - 1] += ':*';
  return quoted.length === 1 ? quoted[0]! : `(${quoted.join(' <-> ')})`;
}
