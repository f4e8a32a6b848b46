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
  /** What a chat client does with a message frame: decodes it and takes out the message (full clients only). */
  decode(text: string): DecodedMessage;
  /** Sent when the socket opens. */
  hello?(socket: WebSocket): void;
}

/** A broadcast message as a subscriber's application sees it. */
interface DecodedMessage {
  body: string;
  /** Parley only: the message's createdAt. */
  createdAt?: string;
}

const OPEN_BRACE = 0x7b;

export function protocolFor(kind: ServerKind, parley?: { token: string; roomId: string }): Protocol {
  switch (kind) {
    case 'raw-ws':
      return { url: (port) => `ws://127.0.0.1:${port}/`, onControl: () => true, isMessage: () => true, decode: (text) => ({ body: text }) };
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
        decode: (text) => ({ body: (JSON.parse(text.slice(2)) as [string, string])[1] }),
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
        decode(text) {
          const frame = JSON.parse(text) as { payload?: { data?: { messageAdded?: { body: string; createdAt: string } } } };
          const message = frame.payload?.data?.messageAdded;
          return message ? { body: message.body, createdAt: message.createdAt } : { body: '' };
        },
      };
  }
}

/** One connected load-generator socket. Sinks only count messages; full clients decode and time them. */
export interface LoadClient {
  socket: WebSocket;
  received: number;
  /** Delivery latencies in ms, measured from the send time carried in the message (full clients only). */
  latencies: number[] | undefined;
  /** Parley full clients only: ms from the message's `createdAt` (its transaction's start in PostgreSQL) until received. */
  sinceCreatedAt: number[] | undefined;
}

/** Extracts the sender's timestamp and sequence number that every benchmark message carries as `t=<epoch ms>;n=<k>;`. */
const TIMESTAMP = /t=(\d+\.\d+);/;
const SEQUENCE = Buffer.from(';n=');
const DIGIT_0 = 0x30;

/**
 * The sequence number `k` of a benchmark message (`…;n=<k>;…`) found in a frame's raw bytes without decoding it;
 * 0 for a probe (n=-1) or a frame without one.
 */
function sequenceOf(data: Buffer): number {
  let at = data.indexOf(SEQUENCE);
  if (at < 0) return 0;
  let seq = 0;
  for (at += SEQUENCE.length; at < data.length; at++) {
    const digit = data[at]! - DIGIT_0;
    if (digit < 0 || digit > 9) break;
    seq = seq * 10 + digit;
  }
  return seq;
}

/**
 * Which subscriber received which of `messages` numbered messages (1…messages), and when the last one did: every
 * client, sink or not, reads the number from the frame's bytes. Probes (n=-1) are not tracked.
 */
export class DeliveryTracker {
  /** Per message number: subscribers that have it, and when the latest of them got it (epoch ms). */
  readonly arrivals: Uint32Array;
  readonly lastAt: Float64Array;
  /** Frames of a message a subscriber already had. */
  duplicated = 0;
  private readonly seen = new Map<number, Uint8Array>();

  constructor(readonly messages: number) {
    this.arrivals = new Uint32Array(messages + 1);
    this.lastAt = new Float64Array(messages + 1);
  }

  arrived(client: number, seq: number, at: number): void {
    if (seq < 1 || seq > this.messages) return;
    let seen = this.seen.get(client);
    if (!seen) this.seen.set(client, (seen = new Uint8Array(this.messages + 1)));
    if (seen[seq]) {
      this.duplicated++;
      return;
    }
    seen[seq] = 1;
    this.arrivals[seq]!++;
    this.lastAt[seq] = at;
  }

  /** Messages 1…`upTo` that subscriber `client` never received. */
  missing(client: number, upTo: number): number {
    const seen = this.seen.get(client);
    let missing = 0;
    for (let seq = 1; seq <= upTo; seq++) if (!seen?.[seq]) missing++;
    return missing;
  }
}

export function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Opens `count` sockets with at most `concurrency` handshakes in flight, spreading them over 127.0.0.2–127.0.0.50
 * so the ephemeral ports of one address do not run out. Resolves when every socket is subscribed. Every
 * `sampleEvery`-th client is a full client (1: all of them): it decodes each message frame as a chat client does
 * (JSON.parse of the frame, the message taken out) and times it; the others are sinks that count frames by their
 * first bytes. With a `tracker`, every client also reads the message number from the frame's bytes and reports it.
 */
export async function openClients(options: {
  kind: ServerKind;
  port: number;
  count: number;
  sampleEvery: number;
  concurrency: number;
  protocol: (index: number) => Protocol;
  tracker?: DeliveryTracker;
}): Promise<{ clients: LoadClient[]; errors: number }> {
  const clients: LoadClient[] = [];
  const { tracker } = options;
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
      const full = index % options.sampleEvery === 0;
      const client: LoadClient = { socket, received: 0, latencies: full ? [] : undefined, sinceCreatedAt: full && options.kind === 'parley' ? [] : undefined };
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
          const receivedAt = tracker || full ? now() : 0;
          if (tracker) tracker.arrived(index, sequenceOf(data), receivedAt);
          if (full) {
            const message = protocol.decode(data.toString());
            const sent = TIMESTAMP.exec(message.body);
            if (sent) client.latencies!.push(receivedAt - Number(sent[1]));
            if (client.sinceCreatedAt && message.createdAt) client.sinceCreatedAt.push(receivedAt - Date.parse(message.createdAt));
          }
          return;
        }
        // Control frames keep being answered once subscribed (Socket.IO's "2" ping: without the "3" pong the server
        // drops the socket after pingInterval + pingTimeout, 24 s here, which a paced run outlasts).
        if (protocol.onControl(socket, data.toString()) && !ready) {
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
