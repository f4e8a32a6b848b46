import { createGraphiQLFetcher, type Fetcher } from '@graphiql/toolkit';

/** The example Authorization value the headers editor starts with; sent only once replaced by a real token. */
export const AUTHORIZATION_PLACEHOLDER = 'Bearer <token from signIn>';

/**
 * GraphQL over HTTP to this page's own `/graphql`, and subscriptions over graphql-ws on the same origin (ws: or
 * wss:, as the page was loaded). The headers editor's values go with every HTTP request and, for a subscription,
 * into the socket's `connection_init` payload, where Parley reads `Authorization` too. The example Authorization
 * header is dropped while it still holds the placeholder: Parley refuses an unreadable token, so it would
 * otherwise fail `signUp` and `signIn` themselves.
 */
export function createPlaygroundFetcher(location: Location): Fetcher {
  const url = new URL('/graphql', location.href);
  const subscriptionUrl = new URL(url);
  subscriptionUrl.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const fetcher = createGraphiQLFetcher({ url: url.href, subscriptionUrl: subscriptionUrl.href });
  return (params, options) => {
    if (!options?.headers) return fetcher(params, options);
    const headers = Object.fromEntries(
      Object.entries(options.headers).filter(([name, value]) => !(name.toLowerCase() === 'authorization' && value === AUTHORIZATION_PLACEHOLDER)),
    );
    return fetcher(params, { ...options, headers });
  };
}
