/** Longest preview, in characters (code points, as MESSAGE_MAX_LENGTH counts them), the ellipsis included. */
export const PREVIEW_MAX_CHARACTERS = 140;

const ELLIPSIS = '…';
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * A message body as a one-line preview: whitespace runs (newlines too) become one space, and a body longer than
 * `max` characters is cut after the last whole grapheme that fits (never inside an emoji sequence or between a
 * letter and its combining mark) and ends with "…".
 */
export function messagePreview(body: string, max = PREVIEW_MAX_CHARACTERS): string {
  const text = body.replace(/\s+/gu, ' ').trim();
  if (codePointCount(text) <= max) return text;
  let preview = '';
  let length = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = codePointCount(segment);
    if (length + size > max - ELLIPSIS.length) break;
    preview += segment;
    length += size;
  }
  return `${preview.trimEnd()}${ELLIPSIS}`;
}

function codePointCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
