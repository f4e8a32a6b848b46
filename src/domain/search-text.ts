/**
 * How search splits text into tokens, the same way PostgreSQL indexes it (migration MessageSearch:
 * `to_tsvector('simple', parley_search_text(body))`): every Chinese, Japanese or Korean character is a token of its
 * own, and a word is a run of other letters, digits and combining marks. ASCII punctuation, spaces and other symbols
 * separate tokens. Queries are parsed, and highlights found, with this one function.
 */

/**
 * Han (with extensions and compatibility ideographs), Hiragana, Katakana (with half-width forms and the kana
 * supplement) and Hangul (syllables and jamo). Keep in step with `parley_search_text` in
 * migrations/1796178650000-MessageSearch.ts.
 */
const CJK_RANGES =
  '\\u{1100}-\\u{11FF}\\u{2E80}-\\u{2FDF}\\u{3005}-\\u{3007}\\u{3021}-\\u{3029}\\u{3038}-\\u{303B}\\u{3040}-\\u{30FF}' +
  '\\u{3130}-\\u{318F}\\u{31F0}-\\u{31FF}\\u{3400}-\\u{4DBF}\\u{4E00}-\\u{9FFF}\\u{A960}-\\u{A97F}\\u{AC00}-\\u{D7FF}' +
  '\\u{F900}-\\u{FAFF}\\u{FF66}-\\u{FFDC}\\u{1B000}-\\u{1B16F}\\u{20000}-\\u{3FFFF}';

/** A CJK letter (CJK punctuation such as 。 or ・ is a separator, as PostgreSQL's parser treats it), or a word. */
const TOKEN = new RegExp(`(?=[${CJK_RANGES}])[\\p{L}\\p{N}]|(?:(?![${CJK_RANGES}])[\\p{L}\\p{N}\\p{M}])+`, 'gu');
const CJK = new RegExp(`^[${CJK_RANGES}]$`, 'u');

/** One token of a text: its text as written and where it lies (UTF-16 offsets, end exclusive). */
export interface SearchToken {
  text: string;
  /** Lower-cased, as the 'simple' configuration stores it. */
  lexeme: string;
  /** A single Chinese, Japanese or Korean character. */
  cjk: boolean;
  start: number;
  end: number;
}

/** The tokens of `text`, in order. */
export function searchTokens(text: string): SearchToken[] {
  const tokens: SearchToken[] = [];
  for (const match of text.matchAll(TOKEN)) {
    const start = match.index;
    tokens.push({ text: match[0], lexeme: match[0].toLowerCase(), cjk: CJK.test(match[0]), start, end: start + match[0].length });
  }
  return tokens;
}
