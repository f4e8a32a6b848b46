import type { UsersService } from '../domain/users.service.js';
import type { Viewer } from '../domain/viewer.js';
import { InvalidTokenError, type TokenService } from './tokens.js';

/** How a connection or request authenticated. */
export type Authentication =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'user'; readonly viewer: Viewer; readonly expiresAt: Date }
  /** A token was presented and refused; `reason` is safe to show to the client. */
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
      const claims = await this.tokens.verify(token);
      const found = await this.users.findViewer(claims.userId);
      if (!found) return { kind: 'refused', reason: 'Invalid token' };
      if (claims.version !== found.tokenVersion) return { kind: 'refused', reason: 'Token revoked: sign in again' };
      const auth = { kind: 'user', viewer: found.viewer, expiresAt: claims.expiresAt } as const;
      this.remember(token, auth, Math.min(now + this.cacheMs, claims.expiresAt.getTime()));
      return auth;
    } catch (error) {
      if (error instanceof InvalidTokenError) return { kind: 'refused', reason: error.message };
      throw error;
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
