import type { Authentication } from '../auth/authenticator.js';
import { UnauthenticatedError } from '../domain/errors.js';
import type { Services } from '../domain/services.js';
import type { Viewer } from '../domain/viewer.js';
import { createLoaders, type Loaders } from './loaders.js';

/** What every resolver receives. Built fresh for each operation. */
export interface GraphQLContext {
  readonly auth: Authentication;
  readonly services: Services;
  /** This operation's loaders; a subscription swaps in new ones for every event. */
  loaders: Loaders;
}

export function createContext(services: Services, auth: Authentication): GraphQLContext {
  return { auth, services, loaders: createLoaders(services, viewerOf(auth)) };
}

function viewerOf(auth: Authentication): Viewer | null {
  return auth.kind === 'user' ? auth.viewer : null;
}

/**
 * The signed-in viewer.
 * @throws UnauthenticatedError without a user, saying why when a token was refused.
 */
export function requireViewer(context: GraphQLContext): Viewer {
  const { auth } = context;
  switch (auth.kind) {
    case 'user':
      return auth.viewer;
    case 'refused':
      throw new UnauthenticatedError(auth.reason);
    case 'anonymous':
      throw new UnauthenticatedError();
    default:
      return auth satisfies never;
  }
}

/** Gives a long-lived subscription fresh loaders for the next event, so it never serves rows cached earlier. */
export function renewLoaders(context: GraphQLContext): void {
  context.loaders = createLoaders(context.services, viewerOf(context.auth));
}
