import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/** The address a request comes from: what per-address rate limits count. */
export type ClientAddressOf = (request: IncomingMessage) => string;

/**
 * The TCP peer, or, for a peer that is a trusted proxy (TRUST_PROXY, as Express's `trust proxy`: `true`, a hop
 * count, or addresses and subnets such as `loopback, 10.0.0.0/8`), the nearest untrusted address in
 * X-Forwarded-For. Without a trusted proxy the header is ignored, so a client cannot pick its own address.
 */
export function clientAddressOf(trustProxy: boolean | number | string): ClientAddressOf {
  const trust: (address: string, hop: number) => boolean =
    trustProxy === true
      ? () => true
      : trustProxy === false
        ? () => false
        : typeof trustProxy === 'number'
          ? (_address, hop) => hop < trustProxy
          : proxyaddr.compile(trustProxy.split(',').map((entry) => entry.trim()));
  return (request) => proxyaddr(request, trust);
}
