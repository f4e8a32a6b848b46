import { createHash } from 'node:crypto';
import { IsNull, type DataSource, type Repository } from 'typeorm';
import { queryRows } from '../db/query-rows.js';
import type { IssuedToken, TokenService } from '../auth/tokens.js';
import type { PasswordHasher } from '../auth/passwords.js';
import { User } from '../db/entities/user.entity.js';
import { BadUserInputError, UnauthenticatedError } from './errors.js';
import { isUuid } from '../db/ids.js';
import type { RateLimits } from './rate-limits.js';
import { requireValidPassword } from './password-rules.js';
import { isUniqueViolation } from './unique-violation.js';
import type { Viewer } from './viewer.js';

const USERNAME = /^[A-Za-z0-9_.-]{3,32}$/;
const BAD_CREDENTIALS = 'Invalid username or password';

/** What anyone may know about a user: what the GraphQL `User` type shows. */
export interface PublicUser {
  readonly id: string;
  /** `deleted user` for a deleted account's placeholder. */
  readonly username: string;
  /** A deleted account's placeholder. */
  readonly deleted: boolean;
}

export interface Session extends IssuedToken {
  user: PublicUser;
}

/** Accounts: sign-up, sign-in, and looking users up. */
export class UsersService {
  private readonly users: Repository<User>;
  private readonly signOutListeners: ((userId: string) => void)[] = [];

  constructor(
    db: DataSource,
    private readonly passwords: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly limits: RateLimits,
  ) {
    this.users = db.getRepository(User);
  }

  /**
   * Creates an account and signs it in.
   * @throws BadUserInputError for an invalid username or password, or a username taken in any letter case.
   */
  async signUp(username: string, password: string, clientAddress: string): Promise<Session> {
    await this.limits.signUp(clientAddress);
    if (!USERNAME.test(username)) {
      throw new BadUserInputError(
        'Username must be 3 to 32 characters of letters, digits, "_", "." or "-"',
        'username',
      );
    }
    requireValidPassword(password);
    if (await this.findByUsername(username)) throw usernameTaken();
    const passwordHash = await this.passwords.hash(password);
    let user: User;
    try {
      user = await this.users.save(this.users.create({ username, passwordHash }));
    } catch (error) {
      if (isUniqueViolation(error, 'users_username_lower_key')) throw usernameTaken(); // lost a race
      throw error;
    }
    return { user: publicUser(user), ...(await this.tokens.issue(user.id, user.tokenVersion)) };
  }

  /**
   * Checks a username (any letter case) and password and issues a token.
   * @throws UnauthenticatedError, the same one for an unknown user and a wrong password, after the same work.
   */
  async signIn(username: string, password: string, clientAddress: string): Promise<Session> {
    return this.limits.signIn(username, clientAddress, async () => {
      const user = USERNAME.test(username) ? await this.findByUsername(username) : null;
      const matches = await this.passwords.verify(user?.passwordHash ?? undefined, password);
      if (!user || !matches) throw new UnauthenticatedError(BAD_CREDENTIALS);
      return { user: publicUser(user), ...(await this.tokens.issue(user.id, user.tokenVersion)) };
    });
  }

  /** The user behind a verified token and the user's current token version; null when the account is gone. */
  async findViewer(userId: string): Promise<{ viewer: Viewer; tokenVersion: number } | null> {
    if (!isUuid(userId)) return null;
    const user = await this.users.findOne({ where: { id: userId, deletedAt: IsNull() }, select: { id: true, username: true, tokenVersion: true } });
    return user ? { viewer: { id: user.id, username: user.username }, tokenVersion: user.tokenVersion } : null;
  }

  /** The token version of each of these users whose account exists (absent: deleted or unknown), in one statement. */
  async tokenVersions(userIds: readonly string[]): Promise<Map<string, number>> {
    const ids = userIds.filter(isUuid);
    if (ids.length === 0) return new Map();
    // One array parameter, however many users (a bind parameter per id would stop at 65,535).
    const rows = await queryRows<{ id: string; token_version: number }>(
      this.users.manager,
      'SELECT id, token_version FROM users WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL',
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row.token_version]));
  }

  /**
   * The user a token of the app's identity provider names (by issuer and subject), created on first sight with
   * the token's username claim, made valid and unique (a taken or unusable name gets a suffix from the subject).
   */
  async findOrCreateExternal(identity: { issuer: string; subject: string; username: string | undefined }): Promise<Viewer> {
    const where = { externalIssuer: identity.issuer, externalSubject: identity.subject };
    const known = await this.users.findOne({ where, select: { id: true, username: true } });
    if (known) return { id: known.id, username: known.username };
    const wanted = usernameFrom(identity.username);
    const candidates = [wanted, `${wanted.slice(0, 23)}_${createHash('sha256').update(identity.subject).digest('hex').slice(0, 8)}`];
    for (const username of candidates) {
      if (await this.findByUsername(username)) continue;
      try {
        const user = await this.users.save(this.users.create({ username, passwordHash: null, ...where }));
        return { id: user.id, username: user.username };
      } catch (error) {
        if (isUniqueViolation(error, 'users_external_identity_key')) break; // created by a concurrent request
        if (!isUniqueViolation(error, 'users_username_lower_key')) throw error;
      }
    }
    const created = await this.users.findOne({ where, select: { id: true, username: true } });
    if (!created) throw new Error(`no free username for ${identity.issuer} ${identity.subject}`);
    return { id: created.id, username: created.username };
  }

  /** A fresh token for a signed-in viewer, under the current token version. */
  async refreshToken(viewer: Viewer): Promise<Session> {
    const user = await this.users.findOne({ where: { id: viewer.id, deletedAt: IsNull() } });
    if (!user) throw new UnauthenticatedError('Invalid token');
    return { user: publicUser(user), ...(await this.tokens.issue(user.id, user.tokenVersion)) };
  }

  /**
   * Revokes every token of the viewer (all devices): raises the token version, then tells `signedOut` listeners
   * (the authenticator forgets the user's cached tokens, the WebSocket transport closes the user's sockets).
   */
  async signOut(viewer: Viewer): Promise<boolean> {
    await this.users.increment({ id: viewer.id }, 'tokenVersion', 1);
    this.announceSignOut(viewer.id);
    return true;
  }

  /**
   * Tells the sign-out listeners that every token of the user issued so far was revoked (by whoever raised the
   * token version: a sign-out, a password change, an account deletion).
   */
  announceSignOut(userId: string): void {
    for (const listener of this.signOutListeners) listener(userId);
  }

  /** Registers a listener for sign-outs (by user id). */
  onSignOut(listener: (userId: string) => void): void {
    this.signOutListeners.push(listener);
  }

  /** The viewer's own account. @throws UnauthenticatedError when it was deleted after the token was issued. */
  async me(viewer: Viewer): Promise<PublicUser> {
    const [user] = await this.findByIds([viewer.id]);
    if (!user || user.deleted) throw new UnauthenticatedError('Your account no longer exists');
    return user;
  }

  /** Users by id, in no particular order; unknown ids are skipped. For DataLoader batches. */
  async findByIds(ids: readonly string[]): Promise<PublicUser[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    return this.users.query(
      `SELECT id, username, deleted_at IS NOT NULL AS deleted FROM users WHERE id = ANY($1::uuid[])`,
      [valid],
    );
  }

  private findByUsername(username: string): Promise<User | null> {
    return this.users
      .createQueryBuilder('user')
      .where('lower(user.username) COLLATE "C" = lower(:username) AND user.deleted_at IS NULL', { username })
      .getOne();
  }
}

/** The GraphQL view of an account row. */
export function publicUser(user: User): PublicUser {
  return { id: user.id, username: user.username, deleted: user.deletedAt !== null };
}

function usernameTaken(): BadUserInputError {
  return new BadUserInputError('Username is already taken', 'username');
}

/** A valid username from a provider's claim: disallowed characters become `_`, cut to 32, at least 3 (`user`). */
function usernameFrom(claim: string | undefined): string {
  const cleaned = (claim ?? '').replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32);
  return cleaned.length >= 3 ? cleaned : 'user';
}
