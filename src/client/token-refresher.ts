/** Where the client gets its token: called on every (re)connect and HTTP request. Null: anonymous. */
export type TokenSource = () => string | null | Promise<string | null>;

/** A fresh token from `refreshToken`. */
export interface RefreshedToken {
  token: string;
  expiresAt: string;
}

export interface TokenRefresherOptions {
  source: TokenSource;
  /** Calls `refreshToken` authenticated with `token`. */
  fetchFresh(token: string): Promise<RefreshedToken>;
  /** Switches the open socket (if any) to `token` with `authenticate`, keeping its subscriptions. */
  swapOnSocket(token: string): Promise<void>;
  /** Lets the app take over: call `refresh` when it suits. Default: refresh at once. */
  onTokenExpiring?: (refresh: () => Promise<void>) => void;
  /** Told every fresh token, so the app can store it (the client uses it until `source` returns another). */
  onTokenRefreshed?: (token: string, expiresAt: string) => void;
  /** A refresh that failed for good (the socket then closes at expiry with 4403 "Token expired"). */
  onError(error: unknown): void;
  /** Refresh this many ms before expiry. Default: a quarter of the token's lifetime, at most 60 s. */
  leadMs?: number;
}

/** The `exp` and `iat` claims of a JWT in ms, or undefined when it is not a readable JWT. */
export function tokenTimes(token: string): { expiresAt: number; issuedAt: number | undefined } | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown; iat?: unknown };
    if (typeof claims.exp !== 'number') return undefined;
    return { expiresAt: claims.exp * 1000, issuedAt: typeof claims.iat === 'number' ? claims.iat * 1000 : undefined };
  } catch {
    return undefined;
  }
}

/**
 * Keeps the client's token fresh: before the token in use expires it gets a new one with `refreshToken` and swaps
 * it onto the open socket with `authenticate`, so subscriptions carry on. The app's `source` stays the authority:
 * while it still returns the token that was refreshed, the client uses the refreshed one; once it returns another
 * (the app stored the fresh one, or signed in anew), that one.
 */
export class TokenRefresher {
  private fromSource: string | null = null;
  private refreshed: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private armedFor: string | undefined;
  private stopped = false;

  constructor(private readonly options: TokenRefresherOptions) {}

  /** The token to use now. */
  async current(): Promise<string | null> {
    const token = await this.options.source();
    if (token !== null && token === this.fromSource && this.refreshed) return this.refreshed;
    this.fromSource = token;
    this.refreshed = undefined;
    return token;
  }

  /** Schedules the refresh of `token` (the one a socket was just authenticated with). */
  arm(token: string | null): void {
    if (this.stopped || token === null || token === this.armedFor) return;
    const times = tokenTimes(token);
    if (!times) return;
    this.disarm();
    this.armedFor = token;
    const lifetime = times.issuedAt === undefined ? Infinity : times.expiresAt - times.issuedAt;
    const lead = this.options.leadMs ?? Math.min(60_000, lifetime / 4);
    const delay = Math.max(1_000, times.expiresAt - lead - Date.now());
    this.timer = setTimeout(() => this.expiring(), Math.min(delay, 2 ** 31 - 1));
  }

  /** Gets a fresh token now and swaps it onto the open socket. */
  refresh = async (): Promise<void> => {
    const token = await this.current();
    if (this.stopped || token === null) return;
    const fresh = await this.options.fetchFresh(token);
    if (this.stopped) return;
    this.refreshed = fresh.token;
    this.options.onTokenRefreshed?.(fresh.token, fresh.expiresAt);
    await this.options.swapOnSocket(fresh.token);
    this.arm(fresh.token);
  };

  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = undefined;
  }

  private expiring(): void {
    const armed = this.armedFor;
    this.timer = undefined;
    if (this.options.onTokenExpiring) return this.options.onTokenExpiring(this.refresh);
    this.refresh().catch((error: unknown) => {
      this.options.onError(error);
      // Try again while the token lives (a network blip); the socket closes at expiry otherwise.
      const times = armed ? tokenTimes(armed) : undefined;
      if (armed && times && times.expiresAt - Date.now() > 2_000 && !this.stopped) {
        this.armedFor = armed;
        this.timer = setTimeout(() => this.expiring(), Math.min(5_000, (times.expiresAt - Date.now()) / 2));
      }
    });
  }
}
