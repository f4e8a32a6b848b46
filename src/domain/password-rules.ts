import { BadUserInputError } from './errors.js';

/** Fewest characters (code points) a password may have. */
export const PASSWORD_MIN = 8;
/** Most characters (code points) a password may have: argon2 hashes any length, this bounds the work. */
export const PASSWORD_MAX = 128;

/**
 * The password rules of `signUp` and `changePassword`: 8 to 128 characters.
 * @throws BadUserInputError naming `argumentName` (default `password`) for a password outside them.
 */
export function requireValidPassword(password: string, argumentName = 'password'): void {
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw new BadUserInputError(`Password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters`, argumentName);
  }
}
