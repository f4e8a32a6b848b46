/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation SignUp($username: String!, $password: String!) {\n  signUp(username: $username, password: $password) {\n    token\n    expiresAt\n    user {\n      id\n      username\n    }\n  }\n}\n\nmutation SignIn($username: String!, $password: String!) {\n  signIn(username: $username, password: $password) {\n    token\n    expiresAt\n    user {\n      id\n      username\n    }\n  }\n}\n\nquery Me {\n  me {\n    id\n    username\n  }\n}": typeof types.SignUpDocument,
    "fragment MessageFields on Message {\n  id\n  seq\n  cursor\n  body\n  clientMessageId\n  createdAt\n  author {\n    id\n    username\n  }\n  room {\n    id\n    lastSeq\n  }\n}\n\nmutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: String) {\n  sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {\n    ...MessageFields\n  }\n}\n\nquery Messages($roomId: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n  messages(\n    roomId: $roomId\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        ...MessageFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nsubscription MessageAdded($roomId: ID!, $after: String) {\n  messageAdded(roomId: $roomId, after: $after) {\n    ...MessageFields\n  }\n}": typeof types.MessageFieldsFragmentDoc,
    "fragment RoomFields on Room {\n  id\n  name\n  kind\n  lastSeq\n}\n\nmutation CreateRoom($name: String!, $kind: RoomKind) {\n  createRoom(name: $name, kind: $kind) {\n    ...RoomFields\n  }\n}\n\nmutation JoinRoom($roomId: ID!) {\n  joinRoom(roomId: $roomId) {\n    ...RoomFields\n  }\n}\n\nmutation LeaveRoom($roomId: ID!) {\n  leaveRoom(roomId: $roomId)\n}\n\nmutation InviteToRoom($roomId: ID!, $userId: ID!) {\n  inviteToRoom(roomId: $roomId, userId: $userId) {\n    ...RoomFields\n  }\n}\n\nquery Rooms {\n  rooms {\n    ...RoomFields\n  }\n}\n\nquery RoomInvitations {\n  roomInvitations {\n    ...RoomFields\n  }\n}\n\nquery Room($id: ID!) {\n  room(id: $id) {\n    ...RoomFields\n  }\n}": typeof types.RoomFieldsFragmentDoc,
};
const documents: Documents = {
    "mutation SignUp($username: String!, $password: String!) {\n  signUp(username: $username, password: $password) {\n    token\n    expiresAt\n    user {\n      id\n      username\n    }\n  }\n}\n\nmutation SignIn($username: String!, $password: String!) {\n  signIn(username: $username, password: $password) {\n    token\n    expiresAt\n    user {\n      id\n      username\n    }\n  }\n}\n\nquery Me {\n  me {\n    id\n    username\n  }\n}": types.SignUpDocument,
    "fragment MessageFields on Message {\n  id\n  seq\n  cursor\n  body\n  clientMessageId\n  createdAt\n  author {\n    id\n    username\n  }\n  room {\n    id\n    lastSeq\n  }\n}\n\nmutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: String) {\n  sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {\n    ...MessageFields\n  }\n}\n\nquery Messages($roomId: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n  messages(\n    roomId: $roomId\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        ...MessageFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nsubscription MessageAdded($roomId: ID!, $after: String) {\n  messageAdded(roomId: $roomId, after: $after) {\n    ...MessageFields\n  }\n}": types.MessageFieldsFragmentDoc,
    "fragment RoomFields on Room {\n  id\n  name\n  kind\n  lastSeq\n}\n\nmutation CreateRoom($name: String!, $kind: RoomKind) {\n  createRoom(name: $name, kind: $kind) {\n    ...RoomFields\n  }\n}\n\nmutation JoinRoom($roomId: ID!) {\n  joinRoom(roomId: $roomId) {\n    ...RoomFields\n  }\n}\n\nmutation LeaveRoom($roomId: ID!) {\n  leaveRoom(roomId: $roomId)\n}\n\nmutation InviteToRoom($roomId: ID!, $userId: ID!) {\n  inviteToRoom(roomId: $roomId, userId: $userId) {\n    ...RoomFields\n  }\n}\n\nquery Rooms {\n  rooms {\n    ...RoomFields\n  }\n}\n\nquery RoomInvitations {\n  roomInvitations {\n    ...RoomFields\n  }\n}\n\nquery Room($id: ID!) {\n  room(id: $id) {\n    ...RoomFields\n  }\n}": types.RoomFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation SignUp($username: String!, $password: String!) {\n  signUp(username: $username, password: $password) {\n    token\n    expiresAt\n    user {\n      id\n      username\n    }\n  }\n}\n\nmutation SignIn($username: String!, $password: String!) {\n  signIn(username: $username, password: $password) {\n    token\n    expiresAt\n    user {\n      id\n      username\n    }\n  }\n}\n\nquery Me {\n  me {\n    id\n    username\n  }\n}"): (typeof documents)["mutation SignUp($username: String!, $password: String!) {\n  signUp(username: $username, password: $password) {\n    token\n    expiresAt\n    user {\n      id\n      username\n    }\n  }\n}\n\nmutation SignIn($username: String!, $password: String!) {\n  signIn(username: $username, password: $password) {\n    token\n    expiresAt\n    user {\n      id\n      username\n    }\n  }\n}\n\nquery Me {\n  me {\n    id\n    username\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment MessageFields on Message {\n  id\n  seq\n  cursor\n  body\n  clientMessageId\n  createdAt\n  author {\n    id\n    username\n  }\n  room {\n    id\n    lastSeq\n  }\n}\n\nmutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: String) {\n  sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {\n    ...MessageFields\n  }\n}\n\nquery Messages($roomId: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n  messages(\n    roomId: $roomId\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        ...MessageFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nsubscription MessageAdded($roomId: ID!, $after: String) {\n  messageAdded(roomId: $roomId, after: $after) {\n    ...MessageFields\n  }\n}"): (typeof documents)["fragment MessageFields on Message {\n  id\n  seq\n  cursor\n  body\n  clientMessageId\n  createdAt\n  author {\n    id\n    username\n  }\n  room {\n    id\n    lastSeq\n  }\n}\n\nmutation SendMessage($roomId: ID!, $body: String!, $clientMessageId: String) {\n  sendMessage(roomId: $roomId, body: $body, clientMessageId: $clientMessageId) {\n    ...MessageFields\n  }\n}\n\nquery Messages($roomId: ID!, $first: Int, $after: String, $last: Int, $before: String) {\n  messages(\n    roomId: $roomId\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    edges {\n      cursor\n      node {\n        ...MessageFields\n      }\n    }\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n  }\n}\n\nsubscription MessageAdded($roomId: ID!, $after: String) {\n  messageAdded(roomId: $roomId, after: $after) {\n    ...MessageFields\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment RoomFields on Room {\n  id\n  name\n  kind\n  lastSeq\n}\n\nmutation CreateRoom($name: String!, $kind: RoomKind) {\n  createRoom(name: $name, kind: $kind) {\n    ...RoomFields\n  }\n}\n\nmutation JoinRoom($roomId: ID!) {\n  joinRoom(roomId: $roomId) {\n    ...RoomFields\n  }\n}\n\nmutation LeaveRoom($roomId: ID!) {\n  leaveRoom(roomId: $roomId)\n}\n\nmutation InviteToRoom($roomId: ID!, $userId: ID!) {\n  inviteToRoom(roomId: $roomId, userId: $userId) {\n    ...RoomFields\n  }\n}\n\nquery Rooms {\n  rooms {\n    ...RoomFields\n  }\n}\n\nquery RoomInvitations {\n  roomInvitations {\n    ...RoomFields\n  }\n}\n\nquery Room($id: ID!) {\n  room(id: $id) {\n    ...RoomFields\n  }\n}"): (typeof documents)["fragment RoomFields on Room {\n  id\n  name\n  kind\n  lastSeq\n}\n\nmutation CreateRoom($name: String!, $kind: RoomKind) {\n  createRoom(name: $name, kind: $kind) {\n    ...RoomFields\n  }\n}\n\nmutation JoinRoom($roomId: ID!) {\n  joinRoom(roomId: $roomId) {\n    ...RoomFields\n  }\n}\n\nmutation LeaveRoom($roomId: ID!) {\n  leaveRoom(roomId: $roomId)\n}\n\nmutation InviteToRoom($roomId: ID!, $userId: ID!) {\n  inviteToRoom(roomId: $roomId, userId: $userId) {\n    ...RoomFields\n  }\n}\n\nquery Rooms {\n  rooms {\n    ...RoomFields\n  }\n}\n\nquery RoomInvitations {\n  roomInvitations {\n    ...RoomFields\n  }\n}\n\nquery Room($id: ID!) {\n  room(id: $id) {\n    ...RoomFields\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;