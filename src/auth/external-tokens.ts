import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { webcrypto } from 'node:crypto';
import { INVALID_TOKEN, InvalidTokenError, TOKEN_EXPIRED } from './tokens.js';

/** The app's own identity provider, whose tokens Parley accepts besides its own (JWT_JWKS_URL or JWT_PUBLIC_KEY). */
export interface ExternalIdentityOptions {
  /** JWKS endpoint of the provider (keys chosen by `kid`, fetched and cached by jose). */
  jwksUrl?: string | undefined;
  /** Or one public key, PEM (SPKI). */
  publicKeyPem?: string | undefined;
  issuer: string;
  audience: string;
  /** Claim holding the username to give a user seen for the first time. */
  usernameClaim: string;
  /** Accepted signature algorithms (asymmetric only: Parley's own tokens are the HS256 ones). */
  algorithms: string[];
}

/** Who a verified provider token names. */
export interface ExternalClaims {
  issuer: string;
  subject: string;
  /** The username claim, when the token has one. */
  username: string | undefined;
  expiresAt: Date;
}

/** Verifies tokens of the app's identity provider: signature by its keys, pinned algorithms, iss, aud, exp, nbf. */
export class ExternalTokenVerifier {
  private readonly key: JWTVerifyGetKey | Promise<webcrypto.CryptoKey>;

  constructor(private readonly options: ExternalIdentityOptions) {
    if (options.jwksUrl) this.key = createRemoteJWKSet(new URL(options.jwksUrl));
    else if (options.publicKeyPem) this.key = importSPKI(options.publicKeyPem, options.algorithms[0]!);
    else throw new Error('an external identity provider needs JWT_JWKS_URL or JWT_PUBLIC_KEY');
  }

  /** @throws InvalidTokenError saying whether the token expired or is invalid. */
  async verify(token: string): Promise<ExternalClaims> {
    const { issuer, audience, algorithms, usernameClaim } = this.options;
    try {
      const verifyOptions = { issuer, audience, algorithms, requiredClaims: ['exp', 'sub'] };
      const key = this.key;
      const { payload } =
        typeof key === 'function' ? await jwtVerify(token, key, verifyOptions) : await jwtVerify(token, await key, verifyOptions);
      const username = payload[usernameClaim];
      return {
        issuer,
        subject: payload.sub!,
        username: typeof username === 'string' ? username : undefined,
        expiresAt: new Date(payload.exp! * 1000),
      };
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new InvalidTokenError(TOKEN_EXPIRED);
      throw new InvalidTokenError(INVALID_TOKEN);
    }
  }
}
