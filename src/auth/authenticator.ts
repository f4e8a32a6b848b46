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

/** Turns a bearer token into an Authentication: verifies it and loads its user. */
export class Authenticator {
  constructor(
    private readonly tokens: TokenService,
    private readonly users: UsersService,
  ) {}

  /** Anonymous without a token; refused for a bad or expired token or a deleted account. Never throws for those. */
  async authenticate(token: string | undefined): Promise<Authentication> {
    if (token === undefined) return ANONYMOUS;
    try {
      const claims = await this.tokens.verify(token);
      const viewer = await this.users.findViewer(claims.userId);
      if (!viewer) return { kind: 'refused', reason: 'Invalid token' };
      return { kind: 'user', viewer, expiresAt: claims.expiresAt };
    } catch (error) {
      if (error instanceof InvalidTokenError) return { kind: 'refused', reason: error.message };
      throw error;
    }
  }
}
