import argon2 from 'argon2';

// OWASP's argon2id recommendation: 19 MiB, 2 iterations, parallelism 1.
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Hashes and checks passwords with argon2id. */
export class PasswordHasher {
  // Checked against when the username is unknown, so both failures cost one argon2 verification.
  private readonly decoy: Promise<string> = argon2.hash('parley-decoy-password', OPTIONS);

  hash(password: string): Promise<string> {
    return argon2.hash(password, OPTIONS);
  }

  /** True when `password` matches `hash`; with no hash, spends the same time and returns false. */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    if (hash === undefined) {
      await argon2.verify(await this.decoy, password);
      return false;
    }
    return argon2.verify(hash, password);
  }
}
