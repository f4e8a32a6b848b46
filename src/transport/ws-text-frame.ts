import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** What of ws's own state the direct write relies on (ws 8: the socket's TCP socket and its frame sender). */
interface WsInternals {
  _socket?: Socket | null;
  _sender?: { _state?: number; _queue?: unknown[] };
}

/**
 * Sends one WebSocket text message made of `head` (a short string of `headBytes` UTF-8 bytes, a subscription's
 * operation-id prefix: kept as a string, it costs a subscription less memory than a Buffer of its own) then `shared`,
 * where `shared` is the same Buffer for many sockets
 * (a group's rendered payload): the bytes are written as they are, with no per-socket concatenation or UTF-8 encoding
 * of the whole message. It is the frame ws would send (FIN, text opcode, unmasked as a server's frames are, no
 * compression: the server negotiates none), written straight to the TCP socket in one corked write when ws has
 * nothing of its own in progress; otherwise (and for any socket that is not ws's usual kind) through `send`.
 * The caller checks that the socket is open. The bytes count in `bufferedAmount` either way.
 */
export function sendTextFrame(socket: WebSocket, head: string, headBytes: number, shared: Buffer): void {
  const internals = socket as unknown as WsInternals;
  const tcp = internals._socket;
  const sender = internals._sender;
  if (!tcp || !tcp.writable || sender?._state !== 0 || (sender._queue?.length ?? 0) > 0) {
    socket.send(Buffer.concat([Buffer.from(head), shared]), { binary: false });
    return;
  }
  const length = headBytes + shared.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const first = Buffer.allocUnsafe(headerLength + headBytes);
  first[0] = 0x81; // FIN + text
  if (length < 126) {
    first[1] = length;
  } else if (length < 65_536) {
    first[1] = 126;
    first.writeUInt16BE(length, 2);
  } else {
    first[1] = 127;
    first.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    first.writeUInt32BE(length >>> 0, 6);
  }
  first.write(head, headerLength, headBytes, 'utf8');
  tcp.cork();
  tcp.write(first);
  tcp.write(shared);
  tcp.uncork();
}
