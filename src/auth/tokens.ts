import { errors, jwtVerify, SignJWT } from 'jose';
import type { webcrypto } from 'node:crypto';

/**
 * The reasons a token is refused, shown to the client as the UNAUTHENTICATED message over HTTP and as the reason
 * of the 4403 close on a WebSocket (at connection_init, and when an open socket's token stops being valid).
 * Invalid: malformed, badly signed, wrong issuer or audience, not valid yet, or its user no longer exists.
 */
export const INVALID_TOKEN = 'Invalid token';
/** Past its `exp`: refresh or sign in again. */
export const TOKEN_EXPIRED = 'Token expired';
/** Revoked: its user signed out (which raises the user's token version) after it was issued. Sign in again. */
export const SIGNED_OUT = 'Signed out';

const ALGORITHM = 'HS256';
/** The `iss` and `aud` of every token Parley issues and accepts. */
export const TOKEN_ISSUER = 'parley';
export const TOKEN_AUDIENCE = 'parley';

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

/** The verified claims Parley uses. */
export interface TokenClaims {
  userId: string;
  expiresAt: Date;
  /** The user's token version when it was issued; a token older than the user's current version is revoked. */
  version: number;
}

/** Why a token was refused; the message is safe to show to the client. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

/** Issues and verifies HS256 JWTs with `sub` = user id. */
export class TokenService {
  /** Imported once: jose would import raw key bytes again on every call, several times the cost of the HMAC. */
  private readonly key: Promise<webcrypto.CryptoKey>;

  constructor(
    secret: string,
    /** Lifetime of issued tokens, in seconds. */
    private readonly ttlSeconds: number,
  ) {
    this.key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  }

  /** Issues a token for `userId` under the user's current token `version` that expires `ttlSeconds` from now. */
  async issue(userId: string, version: number): Promise<IssuedToken> {
    const issuedAt = Math.floor(Date.now() / 1000);
    const exp = issuedAt + this.ttlSeconds;
    const token = await new SignJWT({ ver: version })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(exp)
      .sign(await this.key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /**
   * Verifies signature (HS256 only), `exp`, `iss` and `aud`.
   * @throws InvalidTokenError saying whether the token expired or is invalid.
   */
  async verify(token: string): Promise<TokenClaims> {
    try {
      const { payload } = await jwtVerify(token, await this.key, {
        algorithms: [ALGORITHM],
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        requiredClaims: ['exp', 'sub'],
      });
      const version = payload['ver'] ?? 0; // tokens from before versions were introduced count as version 0
      if (typeof version !== 'number') throw new InvalidTokenError(INVALID_TOKEN);
      return { userId: payload.sub as string, expiresAt: new Date((payload.exp as number) * 1000), version };
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new InvalidTokenError(TOKEN_EXPIRED);
      throw new InvalidTokenError(INVALID_TOKEN);
    }
  }
}

/**
 * The token in an authorization value: `Bearer <token>` gives `<token>`. Any other non-empty string is returned as
 * is, so that a malformed credential is refused rather than silently treated as none. Undefined when absent.
 */
export function tokenFromAuthorization(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string' || authorization.trim() === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1] ?? authorization;
}
