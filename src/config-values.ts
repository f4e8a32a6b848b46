import net from 'node:net';
import { z } from 'zod';

// How the environment's values are read: durations, rates, flags and addresses (config.ts says which exist).

/** Parses a duration such as `3600`, `90s`, `15m`, `24h` or `7d` into seconds. */
export function durationSeconds(value: string): number | undefined {
  const match = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!match) return undefined;
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** `N/duration`, such as `20/10s` or `10/15m`: N per that many seconds. */
export const rateRule = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const match = /^\s*(\d+)\s*\/\s*(.+)$/.exec(v);
      const seconds = match ? durationSeconds(match[2]!) : undefined;
      if (!match || seconds === undefined || seconds < 1 || Number(match[1]) < 1) {
        ctx.addIssue({ code: 'custom', message: 'must be a count per duration, such as 20/10s, 10/15m or 5/1h' });
        return z.NEVER;
      }
      return { points: Number(match[1]), seconds };
    });

/** A duration such as `30s`, `2s`, `500ms`, `5m`, or a bare number of milliseconds; in milliseconds. */
export const durationMs = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const match = /^(\d+)\s*(ms|s|m|h)?$/.exec(v.trim());
      if (!match) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration such as 500ms, 30s or 5m (a bare number is milliseconds)' });
        return z.NEVER;
      }
      return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'ms') as 'ms' | 's' | 'm' | 'h'];
    });

export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'must be true or false' })
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/** An IP address or a host name to listen on; `[::1]` is taken for `::1`. */
export const listenHost = z.string().transform((v, ctx) => {
  const host = v.trim().replace(/^\[(.*)\]$/, '$1');
  const hostName = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
  if (net.isIP(host) !== 0 || (hostName.test(host) && !/^[\d.]+$/.test(host))) return host;
  ctx.addIssue({
    code: 'custom',
    message: 'must be an address to listen on, such as 127.0.0.1 (this machine only), 0.0.0.0 (every IPv4 interface) or :: (every interface), or a host name',
  });
  return z.NEVER;
});
