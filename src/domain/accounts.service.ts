import type { DataSource } from 'typeorm';
import type { PasswordHasher } from '../auth/passwords.js';
import type { TokenService } from '../auth/tokens.js';
import { queryRows } from '../db/query-rows.js';
import type { AccountErasure } from './account-erasure.js';
import { BadUserInputError, UnauthenticatedError } from './errors.js';
import { requireValidPassword } from './password-rules.js';
import type { RateLimits } from './rate-limits.js';
import type { Session, UsersService } from './users.service.js';
import type { Viewer } from './viewer.js';

/**
 * A wrong password of a signed-in viewer. An UnauthenticatedError only so that the sign-in limiter counts it as a
 * failure; the viewer sees a BadUserInputError (see checkPassword).
 */
class WrongPasswordError extends UnauthenticatedError {}

/** The account row as the password checks need it. */
interface Credentials {
  password_hash: string | null;
}

/** What a signed-in user does to their own account: change its password, delete it. */
export class AccountsService {
  constructor(
    private readonly db: DataSource,
    private readonly passwords: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly limits: RateLimits,
    private readonly users: UsersService,
    private readonly erasure: AccountErasure,
  ) {}

  /**
   * Sets a new password (the sign-up rules) after checking the current one, revokes every earlier token of the
   * account (the sign-out listeners close its sockets with 4403 "Signed out", this one's included when called
   * over a WebSocket) and returns a fresh token.
   * @throws BadUserInputError for a new password outside the rules, a wrong current password (counted as a
   *   failed sign-in of the viewer's username from this address), or an account without a password;
   *   RateLimitedError while those failures lock sign-in; UnauthenticatedError when the account was deleted.
   */
  async changePassword(viewer: Viewer, currentPassword: string, newPassword: string, clientAddress: string): Promise<Session> {
    requireValidPassword(newPassword, 'newPassword');
    const current = await this.checkPassword(viewer, currentPassword, 'currentPassword', clientAddress);
    const passwordHash = await this.passwords.hash(newPassword);
    // Only over the hash just checked: a concurrent change of the password wins, and this one is refused.
    const [changed] = await queryRows<{ token_version: number }>(
      this.db.manager,
      `UPDATE users SET password_hash = $2, token_version = token_version + 1
       WHERE id = $1 AND deleted_at IS NULL AND password_hash = $3
       RETURNING token_version`,
      [viewer.id, passwordHash, current.password_hash],
    );
    if (!changed) {
      if (!(await this.credentialsOf(viewer))) throw accountGone();
      throw new BadUserInputError('The password was changed meanwhile: sign in with the new one', 'currentPassword');
    }
    this.users.announceSignOut(viewer.id);
    const session = await this.tokens.issue(viewer.id, changed.token_version);
    return { user: { id: viewer.id, username: viewer.username, deleted: false }, ...session };
  }

  /**
   * Deletes the account after checking its password: first revokes every token of it (its sockets close with 4403
   * "Signed out", this one's included when called over a WebSocket), so that it makes no changes of its own while
   * the erasure runs; then erases it (see AccountErasure.erase) and tells the listeners once more. When the erasure
   * fails halfway the account still exists with its password: signing in and deleting again finishes the job.
   * @throws BadUserInputError for a wrong password (counted as a failed sign-in) or an account without a password
   *   (one that signs in through the identity provider); RateLimitedError while failures lock sign-in;
   *   UnauthenticatedError when the account was deleted meanwhile.
   */
  async deleteAccount(viewer: Viewer, password: string, clientAddress: string): Promise<boolean> {
    await this.checkPassword(viewer, password, 'password', clientAddress);
    await queryRows(this.db.manager, 'UPDATE users SET token_version = token_version + 1 WHERE id = $1', [viewer.id]);
    this.users.announceSignOut(viewer.id);
    await this.erasure.erase(viewer);
    this.users.announceSignOut(viewer.id); // a token issued by a sign-in while the erasure ran
    return true;
  }

  /**
   * The viewer's live account when `password` is its password, checked under the sign-in limits of the viewer's
   * username and this address: a wrong password counts as a failed sign-in, a right one clears the failures.
   */
  private async checkPassword(viewer: Viewer, password: string, argumentName: string, clientAddress: string): Promise<Credentials> {
    const credentials = await this.credentialsOf(viewer);
    if (!credentials) throw accountGone();
    const { password_hash: hash } = credentials;
    if (hash === null) {
      throw new BadUserInputError('This account has no password: it signs in through the identity provider', argumentName);
    }
    try {
      await this.limits.signIn(viewer.username, clientAddress, async () => {
        if (!(await this.passwords.verify(hash, password))) throw new WrongPasswordError();
      });
    } catch (error) {
      if (error instanceof WrongPasswordError) throw new BadUserInputError('The password is not correct', argumentName);
      throw error;
    }
    return credentials;
  }

  private async credentialsOf(viewer: Viewer): Promise<Credentials | null> {
    const [row] = await queryRows<Credentials>(
      this.db.manager,
      'SELECT password_hash FROM users WHERE id = $1 AND deleted_at IS NULL',
      [viewer.id],
    );
    return row ?? null;
  }
}

function accountGone(): UnauthenticatedError {
  return new UnauthenticatedError('Your account no longer exists');
}
