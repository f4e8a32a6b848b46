// The floor: a plain `ws` server that sends each broadcast to every socket with one send() per socket.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { announce, readBody, serveRunner } from './ipc.js';

const KEEPALIVE_MS = 12_000; // as graphql-ws's default keepalive

const server = http.createServer(async (request, response) => {
  if (request.method === 'POST' && request.url === '/broadcast') {
    const body = await readBody(request);
    for (const client of wss.clients) client.send(body);
  }
  response.end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
const keepalive = setInterval(() => {
  for (const client of wss.clients) client.ping();
}, KEEPALIVE_MS);

server.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
serveRunner(
  () => ({ subscribers: wss.clients.size }),
  async () => {
    clearInterval(keepalive);
    for (const client of wss.clients) client.terminate();
    server.close();
  },
);
