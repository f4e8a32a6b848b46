// The seed tutorial's stack: Socket.IO 4 broadcasting with io.emit, WebSocket transport only.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { announce, readBody, serveRunner } from './ipc.js';

const server = http.createServer(async (request, response) => {
  if (request.method === 'POST' && request.url === '/broadcast') {
    io.emit('msg', await readBody(request));
    response.end();
  }
});
const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  pingInterval: 12_000, // keepalive comparable to graphql-ws's 12 s
  pingTimeout: 12_000,
  serveClient: false,
});

server.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
serveRunner(
  () => ({ subscribers: io.engine.clientsCount }),
  async () => {
    io.disconnectSockets(true);
    await new Promise<void>((resolve) => io.close(() => resolve()));
  },
);
