import { MessagesDocument, SignInDocument } from '../__generated__/graphql.js';
import { HttpClient, dataOf, postGraphQL } from './http-client.js';
import { PASSWORD, type TestUser } from './fixtures.js';
import type { TestServer } from './test-server.js';

/**
 * A user who signed up in the app, signed in once more over HTTP: the test's own session, for setting things up
 * around the browser (rooms, joins) without touching how the app keeps its token.
 */
export async function signInOverHttp(server: TestServer, username: string, password = PASSWORD): Promise<TestUser> {
  const { signIn: session } = dataOf(await postGraphQL(server.url, SignInDocument, { username, password }));
  return { id: session.user.id, username: session.user.username, token: session.token, http: new HttpClient(server.url, session.token) };
}

/** The bodies of a room's stored messages, oldest first (at most 100): what the server holds, whatever a page shows. */
export async function storedBodies(reader: TestUser, roomId: string): Promise<string[]> {
  const { messages } = await reader.http.data(MessagesDocument, { roomId, last: 100 });
  return messages.edges.map((edge) => edge.node.body);
}
