// The signed-in session: its token and user in localStorage (a reload keeps the session) and the SDK client.
import { createParleyClient, ParleyAuthError, type ParleyClient } from '../../src/client/index.js';
import type { AppUserFragment } from './__generated__/graphql.js';

const TOKEN_KEY = 'parley.token';
const USER_KEY = 'parley.user';

export interface Session {
  user: AppUserFragment;
  client: ParleyClient;
}

/** The GraphQL endpoint of the server that served this page (the SDK derives ws(s):// from it). */
export const GRAPHQL_URL = new URL('/graphql', window.location.href).href;

/** A client without a token, for signUp and signIn. */
export function anonymousClient(): ParleyClient {
  return createParleyClient({ url: GRAPHQL_URL, token: () => null });
}

export function savedUser(): AppUserFragment | null {
  if (!localStorage.getItem(TOKEN_KEY)) return null;
  try {
    const user = JSON.parse(localStorage.getItem(USER_KEY) ?? 'null') as AppUserFragment | null;
    return user && typeof user.id === 'string' ? user : null;
  } catch {
    return null;
  }
}

export function saveSession(token: string, user: AppUserFragment): void {
  localStorage.setItem(TOKEN_KEY, token);
  localStorage.setItem(USER_KEY, JSON.stringify(user));
}

export function forgetSession(): void {
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(USER_KEY);
}

/**
 * The client of a signed-in user: the token is read from storage on every (re)connect and refreshed tokens are
 * stored. `onSignedOut` is called when the server refuses the token (4403: expired, revoked, account deleted).
 */
export function sessionClient(onSignedOut: () => void): ParleyClient {
  return createParleyClient({
    url: GRAPHQL_URL,
    token: () => localStorage.getItem(TOKEN_KEY),
    onTokenRefreshed: (token) => localStorage.setItem(TOKEN_KEY, token),
    onError: (error) => {
      if (error instanceof ParleyAuthError) onSignedOut();
      else console.warn(error);
    },
  });
}
