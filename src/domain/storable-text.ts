import { BadUserInputError } from './errors.js';

/**
 * Refuses text PostgreSQL cannot store as given: NUL characters (text columns reject them) and lone UTF-16
 * surrogates (they would be stored as U+FFFD, so the text read back would differ). Everything else, bidi controls
 * and markup included, is stored and returned exactly.
 * @throws BadUserInputError naming the argument.
 */
export function requireStorableText(value: string, argumentName: string): void {
  if (!value.isWellFormed()) throw new BadUserInputError(`${argumentName} must be valid Unicode (it has a lone surrogate)`, argumentName);
  if (value.includes('\u0000')) throw new BadUserInputError(`${argumentName} must not contain NUL characters`, argumentName);
}
