// The development playground at GET /graphql: GraphiQL bundled from node_modules by Vite (npm run build:web), so
// the page loads nothing from another host and runs under a strict Content-Security-Policy.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import './playground.css';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { AUTHORIZATION_PLACEHOLDER, createPlaygroundFetcher } from './fetcher.js';

const DEFAULT_QUERY = `# Parley's GraphQL playground: queries and mutations go over HTTP, subscriptions over graphql-ws.
#
# 1. Run signUp (or signIn) below and copy the token from the result.
# 2. In Headers (below the editor), replace <token from signIn> with it.
# 3. Run the other operations: pick one with the run button's menu.

mutation SignUp {
  signUp(username: "ada", password: "correct horse battery staple") {
    token
    user { id username }
  }
}

mutation CreateRoom {
  createRoom(name: "general") { id name }
}

subscription MessageAdded($roomId: ID!) {
  messageAdded(roomId: $roomId) { seq body author { username } createdAt }
}
`;

const DEFAULT_HEADERS = JSON.stringify({ Authorization: AUTHORIZATION_PLACEHOLDER }, null, 2);

const root = document.getElementById('graphiql');
if (!root) throw new Error('the page has no #graphiql element');
createRoot(root).render(
  <StrictMode>
    <GraphiQL
      fetcher={createPlaygroundFetcher(window.location)}
      defaultQuery={DEFAULT_QUERY}
      initialHeaders={DEFAULT_HEADERS}
      defaultHeaders={DEFAULT_HEADERS}
      defaultEditorToolsVisibility="headers"
    />
  </StrictMode>,
);
