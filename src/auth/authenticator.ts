import type { UsersService } from '../domain/users.service.js';
import type { Viewer } from '../domain/viewer.js';
import { decodeProtectedHeader } from 'jose';
import type { ExternalTokenVerifier } from './external-tokens.js';
import { INVALID_TOKEN, InvalidTokenError, SIGNED_OUT, type TokenService } from './tokens.js';

export { INVALID_TOKEN, SIGNED_OUT, TOKEN_EXPIRED } from './tokens.js';

/** How a connection or request authenticated. */
export type Authentication =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'user';
      readonly viewer: Viewer;
      readonly expiresAt: Date;
      /** The user's token version the token carries (Parley's own tokens): a sign-out raises the user's. */
      readonly tokenVersion?: number;
    }
  /** A token was presented and refused; `reason` (INVALID_TOKEN, TOKEN_EXPIRED or SIGNED_OUT) is safe to show. */
  | { readonly kind: 'refused'; readonly reason: string };

export const ANONYMOUS: Authentication = { kind: 'anonymous' };

export interface AuthenticatorOptions {
  /** How long a verified token's user is remembered, in ms. Default 60 s. */
  cacheMs?: number;
  /** Most tokens remembered. Default 10,000. */
  cacheSize?: number;
}

/**
 * Turns a bearer token into an Authentication: verifies it and loads its user. A verified token's user is
 * remembered briefly (never past the token's expiry), so a client sending many requests costs one lookup.
 */
export class Authenticator {
  private readonly cache = new Map<string, { auth: Authentication & { kind: 'user' }; until: number }>();
  /** The cached tokens of each user, so that a sign-out can forget them at once. */
  private readonly tokensOfUser = new Map<string, Set<string>>();
  private readonly cacheMs: number;
  private readonly cacheSize: number;

  constructor(
    private readonly tokens: TokenService,
    private readonly users: UsersService,
    options: AuthenticatorOptions = {},
    /** The app's identity provider, when its tokens are accepted too. */
    private readonly external?: ExternalTokenVerifier,
  ) {
    this.cacheMs = options.cacheMs ?? 60_000;
    this.cacheSize = options.cacheSize ?? 10_000;
  }

  /** Anonymous without a token; refused for a bad or expired token or a deleted account. Never throws for those. */
  async authenticate(token: string | undefined): Promise<Authentication> {
    if (token === undefined) return ANONYMOUS;
    const now = Date.now();
    const cached = this.cache.get(token);
    if (cached && cached.until > now) return cached.auth;
    if (cached) this.drop(token, cached.auth.viewer.id);
    try {
      const auth = this.external && !isOwnToken(token) ? await this.verifyExternal(this.external, token) : await this.verifyOwn(token);
      if (auth.kind === 'user') this.remember(token, auth, Math.min(now + this.cacheMs, auth.expiresAt.getTime()));
      return auth;
    } catch (error) {
      if (error instanceof InvalidTokenError) return { kind: 'refused', reason: error.message };
      throw error;
    }
  }

  /** One of Parley's own tokens (HS256, signed with JWT_SECRET), current for its user's token version. */
  private async verifyOwn(token: string): Promise<Authentication> {
    const claims = await this.tokens.verify(token);
    const found = await this.users.findViewer(claims.userId);
    if (!found) return { kind: 'refused', reason: INVALID_TOKEN };
    if (claims.version !== found.tokenVersion) return { kind: 'refused', reason: SIGNED_OUT };
    return { kind: 'user', viewer: found.viewer, expiresAt: claims.expiresAt, tokenVersion: found.tokenVersion };
  }

  /** A token of the app's identity provider: its user, created on first sight. */
  private async verifyExternal(external: ExternalTokenVerifier, token: string): Promise<Authentication> {
    const claims = await external.verify(token);
    const viewer = await this.users.findOrCreateExternal(claims);
    return { kind: 'user', viewer, expiresAt: claims.expiresAt };
  }

  /** Users with a cached token. */
  cachedUsers(): string[] {
    return [...this.tokensOfUser.keys()];
  }

  /**
   * Forgets the cached tokens whose token version is no longer the user's (`current`: each asked user's version
   * now; absent: the account is gone): for sign-outs this process did not hear of.
   */
  forgetStale(current: ReadonlyMap<string, number>, asked: readonly string[]): void {
    for (const userId of asked) {
      for (const token of [...(this.tokensOfUser.get(userId) ?? [])]) {
        const cached = this.cache.get(token);
        if (cached?.auth.tokenVersion !== undefined && cached.auth.tokenVersion !== current.get(userId)) this.drop(token, userId);
      }
    }
  }

  /** Forgets every cached token of a user (after a sign-out revoked them). */
  forgetUser(userId: string): void {
    for (const token of this.tokensOfUser.get(userId) ?? []) this.cache.delete(token);
    this.tokensOfUser.delete(userId);
  }

  private remember(token: string, auth: Authentication & { kind: 'user' }, until: number): void {
    this.cache.set(token, { auth, until });
    const userId = auth.viewer.id;
    let tokens = this.tokensOfUser.get(userId);
    if (!tokens) this.tokensOfUser.set(userId, (tokens = new Set()));
    tokens.add(token);
    if (this.cache.size > this.cacheSize) {
      const [oldest, entry] = this.cache.entries().next().value!;
      this.drop(oldest, entry.auth.viewer.id);
    }
  }

  private drop(token: string, userId: string): void {
    this.cache.delete(token);
    const tokens = this.tokensOfUser.get(userId);
    tokens?.delete(token);
    if (tokens?.size === 0) this.tokensOfUser.delete(userId);
  }
}

/**
 * Parley's own tokens are HS256; anything else goes to the identity provider's verifier, which accepts only its
 * asymmetric algorithms (so an HS256 token "signed" with the provider's public key is checked against JWT_SECRET
 * and fails). A header that cannot be read is treated as Parley's and refused there.
 */
function isOwnToken(token: string): boolean {
  try {
    return decodeProtectedHeader(token).alg === 'HS256';
  } catch {
    return true;
  }
}
