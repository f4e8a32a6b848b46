import { randomBytes } from 'node:crypto';
import { CreateRoomDocument, JoinRoomDocument, SignUpDocument, type RoomKind } from '../__generated__/graphql.js';
import { HttpClient, dataOf, postGraphQL } from './http-client.js';
import type { TestServer } from './test-server.js';

export const PASSWORD = 'correct horse battery';

/** A signed-up user and an HTTP client carrying their token. */
export interface TestUser {
  id: string;
  username: string;
  token: string;
  http: HttpClient;
}

export function uniqueName(prefix = 'user'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

export async function signUp(server: TestServer, username = uniqueName()): Promise<TestUser> {
  const { signUp: session } = dataOf(await postGraphQL(server.url, SignUpDocument, { username, password: PASSWORD }));
  return { id: session.user.id, username: session.user.username, token: session.token, http: new HttpClient(server.url, session.token) };
}

export async function createRoom(owner: TestUser, kind: RoomKind = 'PUBLIC', name = uniqueName('room')) {
  return (await owner.http.data(CreateRoomDocument, { name, kind })).createRoom;
}

/** A public room owned by `owner` that every one of `members` has joined. */
export async function roomWithMembers(owner: TestUser, members: TestUser[]) {
  const room = await createRoom(owner);
  for (const member of members) await member.http.data(JoinRoomDocument, { roomId: room.id });
  return room;
}
