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
    if (cached) this.cache.delete(token);
    try {
      const claims = await this.tokens.verify(token);
      const viewer = await this.users.findViewer(claims.userId);
      if (!viewer) return { kind: 'refused', reason: 'Invalid token' };
      const auth = { kind: 'user', viewer, expiresAt: claims.expiresAt } as const;
      this.remember(token, auth, Math.min(now + this.cacheMs, claims.expiresAt.getTime()));
      return auth;
    } catch (error) {
      if (error instanceof InvalidTokenError) return { kind: 'refused', reason: error.message };
      throw error;
    }
  }

  private remember(token: string, auth: Authentication & { kind: 'user' }, until: number): void {
    this.cache.set(token, { auth, until });
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }
}
