import type { SearchQuery } from './search-query.js';
import { searchTokens } from './search-text.js';

export const HIGHLIGHT_OPEN = '«';
export const HIGHLIGHT_CLOSE = '»';

/**
 * `body` with every match of the query's terms wrapped in « and »: the same tokens the index matched (whole words
 * ignoring case, the last word of the query also as a prefix, whose whole word is then wrapped; CJK characters as
 * adjacent runs). Overlapping matches are wrapped once.
 */
export function highlightMatches(body: string, query: SearchQuery): string {
  const tokens = searchTokens(body);
  const spans: [number, number][] = [];
  for (const term of query.terms) {
    const n = term.lexemes.length;
    for (let i = 0; i + n <= tokens.length; i++) {
      const matches = term.lexemes.every((lexeme, k) => {
        const token = tokens[i + k]!.lexeme;
        return term.prefix && k === n - 1 ? token.startsWith(lexeme) : token === lexeme;
      });
      if (matches) spans.push([tokens[i]!.start, tokens[i + n - 1]!.end]);
    }
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let result = '';
  let at = 0;
  let open: [number, number] | null = null;
  const close = () => {
    if (!open) return;
    result += `${body.slice(at, open[0])}${HIGHLIGHT_OPEN}${body.slice(open[0], open[1])}${HIGHLIGHT_CLOSE}`;
    at = open[1];
    open = null;
  };
  for (const span of spans) {
    if (open && span[0] < open[1]) open[1] = Math.max(open[1], span[1]);
    else {
      close();
      open = [...span];
    }
  }
  close();
  return result + body.slice(at);
}
