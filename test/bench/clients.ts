import WebSocket from 'ws';
import type { ServerKind } from './server-process.js';

/** How one kind of server is spoken to. */
interface Protocol {
  url(port: number): string;
  subprotocol?: string;
  /** Handles a control frame; returns true once the client is subscribed (ready for broadcasts). */
  onControl(socket: WebSocket, text: string): boolean;
  /** True for a frame that carries a broadcast message (checked on raw bytes: sinks never decode). */
  isMessage(data: Buffer): boolean;
  /** Sent when the socket opens. */
  hello?(socket: WebSocket): void;
}

const OPEN_BRACE = 0x7b;

export function protocolFor(kind: ServerKind, parley?: { token: string; roomId: string }): Protocol {
  switch (kind) {
    case 'raw-ws':
      return { url: (port) => `ws://127.0.0.1:${port}/`, onControl: () => true, isMessage: () => true };
    case 'socket-io':
      return {
        url: (port) => `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
        // Engine.IO: "0{…}" open → "40" connect to the main namespace → "40{…}" connected; "2" ping → "3" pong.
        onControl(socket, text) {
          if (text.startsWith('0{')) socket.send('40');
          else if (text === '2') socket.send('3');
          return text.startsWith('40');
        },
        isMessage: (data) => data[0] === 0x34 && data[1] === 0x32, // "42[…]"
      };
    case 'parley':
      return {
        url: (port) => `ws://127.0.0.1:${port}/graphql`,
        subprotocol: 'graphql-transport-ws',
        hello(socket) {
          socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${parley!.token}` } }));
        },
        onControl(socket, text) {
          if (!text.includes('"connection_ack"')) return false;
          const query = `subscription { messageAdded(roomId: "${parley!.roomId}") { id body seq createdAt author { id username } } }`;
          socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
          return true;
        },
        isMessage: (data) => data[0] === OPEN_BRACE && data[2] === 0x69, // {"id":…} frames: next (complete never comes)
      };
  }
}

/** One connected load-generator socket. Sinks only count messages; samples also time them. */
export interface LoadClient {
  socket: WebSocket;
  received: number;
  /** Delivery latencies in ms, measured from the send time carried in the message (samples only). */
  latencies: number[] | undefined;
  /** Parley samples only: ms from the message's `createdAt` (its transaction's start in PostgreSQL) until received. */
  sinceCreatedAt: number[] | undefined;
}

/** Extracts the sender's timestamp that every benchmark message carries as `t=<epoch ms>;`. */
const TIMESTAMP = /t=(\d+\.\d+);/;
const CREATED_AT = /"createdAt":"([^"]+)"/;

export function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Opens `count` sockets with at most `concurrency` handshakes in flight, spreading them over 127.0.0.2–127.0.0.50
 * so the ephemeral ports of one address do not run out. Resolves when every socket is subscribed.
 */
export async function openClients(options: {
  kind: ServerKind;
  port: number;
  count: number;
  sampleEvery: number;
  concurrency: number;
  protocol: (index: number) => Protocol;
}): Promise<{ clients: LoadClient[]; errors: number }> {
  const clients: LoadClient[] = [];
  let errors = 0;
  let next = 0;
  const openOne = (index: number) =>
    new Promise<void>((resolve) => {
      const protocol = options.protocol(index);
      const socket = new WebSocket(protocol.url(options.port), protocol.subprotocol ?? [], {
        perMessageDeflate: false,
        localAddress: `127.0.0.${2 + (index % 49)}`,
        handshakeTimeout: 30_000,
      });
      const sampled = index % options.sampleEvery === 0;
      const client: LoadClient = { socket, received: 0, latencies: sampled ? [] : undefined, sinceCreatedAt: sampled && options.kind === 'parley' ? [] : undefined };
      let ready = false;
      socket.on('open', () => {
        protocol.hello?.(socket);
        if (!protocol.hello && protocol.onControl(socket, '')) {
          ready = true;
          resolve();
        }
      });
      socket.on('message', (data: Buffer) => {
        if (ready && protocol.isMessage(data)) {
          client.received++;
          if (client.latencies) {
            const receivedAt = now();
            const text = data.toString();
            const sent = TIMESTAMP.exec(text);
            if (sent) client.latencies.push(receivedAt - Number(sent[1]));
            const created = client.sinceCreatedAt && CREATED_AT.exec(text);
            if (created) client.sinceCreatedAt!.push(receivedAt - Date.parse(created[1]!));
          }
          return;
        }
        if (!ready && protocol.onControl(socket, data.toString())) {
          ready = true;
          resolve();
        }
      });
      socket.on('error', () => {
        errors++;
        resolve();
      });
      clients.push(client);
    });
  const workers = Array.from({ length: options.concurrency }, async () => {
    while (next < options.count) await openOne(next++);
  });
  await Promise.all(workers);
  return { clients, errors };
}

export async function closeClients(clients: LoadClient[]): Promise<void> {
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.socket.readyState === WebSocket.CLOSED) return resolve();
          client.socket.once('close', () => resolve());
          client.socket.terminate();
        }),
    ),
  );
}
