/**
 * Which browser origins may use the API from another origin: CORS on HTTP, and the Origin check of WebSocket
 * upgrades (which browsers do not subject to CORS, so cross-site pages could otherwise open sockets with the
 * user's cookies or stored tokens). `*` allows every origin.
 */
export class OriginPolicy {
  private readonly any: boolean;
  private readonly allowed: Set<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.allowed = new Set(origins.filter((origin) => origin !== '*').map((origin) => origin.toLowerCase()));
  }

  /** CORS: may a page from `origin` read responses? */
  allowsCrossOrigin(origin: string): boolean {
    return this.any || this.allowed.has(origin.toLowerCase());
  }

  /**
   * WebSocket upgrade: allowed without an Origin (not a browser), from the server's own origin (same host as the
   * request's Host header), or from an allowed origin.
   */
  allowsUpgrade(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.allowsCrossOrigin(origin)) return true;
    try {
      return host !== undefined && new URL(origin).host === host.toLowerCase();
    } catch {
      return false; // not a URL: no browser sends that
    }
  }
}
