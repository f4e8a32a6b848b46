import { BadUserInputError } from './errors.js';
import { requireStorableText } from './storable-text.js';

/**
 * Trims a message body and checks it is 1 to `maxLength` characters.
 * @throws BadUserInputError naming `body` and saying why.
 */
export function validMessageBody(rawBody: string, maxLength: number): string {
  requireStorableText(rawBody, 'body');
  const body = rawBody.trim();
  if (body.length === 0) throw new BadUserInputError('Message body must not be empty', 'body');
  const length = [...body].length;
  if (length > maxLength) {
    throw new BadUserInputError(`Message body is ${length} characters; the maximum is ${maxLength}`, 'body');
  }
  return body;
}
