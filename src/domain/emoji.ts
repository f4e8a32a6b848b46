import { BadUserInputError } from './errors.js';
import { requireStorableText } from './storable-text.js';

const SHORTCODE = /^:[a-z0-9_+-]{1,32}:$/;
const MAX_GRAPHEME_BYTES = 32;
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * A reaction is one grapheme cluster of at most 32 UTF-8 bytes (👍, 👩🏽‍💻, 🇫🇷), or a `:shortcode:` of
 * `[a-z0-9_+-]`, 1 to 32 characters. Whitespace and control characters are refused.
 * @throws BadUserInputError naming `emoji` otherwise.
 */
export function validateEmoji(emoji: string): string {
  requireStorableText(emoji, 'emoji');
  if (SHORTCODE.test(emoji)) return emoji;
  const graphemes = [...segmenter.segment(emoji)];
  const valid =
    graphemes.length === 1 &&
    Buffer.byteLength(emoji, 'utf8') <= MAX_GRAPHEME_BYTES &&
    !/[\p{Cc}\p{Cs}\p{Z}]/u.test(emoji) &&
    emoji.isWellFormed();
  if (!valid) {
    throw new BadUserInputError('emoji must be one emoji (one grapheme, at most 32 bytes) or a :shortcode:', 'emoji');
  }
  return emoji;
}
