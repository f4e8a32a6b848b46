import WebSocket from 'ws';
import { AsyncQueue } from './async-queue.js';

/**
 * A bare graphql-transport-ws client that keeps every frame as the exact text the server sent, so tests can
 * compare bytes. It chooses its own operation ids.
 */
export class RawGraphQLWs {
  readonly socket: WebSocket;
  /** Raw `next` frames per operation id. */
  private readonly frames = new Map<string, AsyncQueue<string>>();
  /** Every other message, parsed. */
  readonly control = new AsyncQueue<{ type: string; id?: string; payload?: unknown }>();
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly opened: Promise<void>;

  constructor(url: string, options: { localAddress?: string } = {}) {
    this.socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false, ...options });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.socket.on('message', (data) => {
      const text = data.toString();
      const message = JSON.parse(text) as { type: string; id?: string };
      if (message.type === 'next' && message.id) this.queue(message.id).push(text);
      else this.control.push(message);
    });
  }

  /** Opens the socket and completes connection_init / connection_ack. */
  async init(payload: Record<string, unknown> = {}): Promise<void> {
    await this.opened;
    this.socket.send(JSON.stringify({ type: 'connection_init', payload }));
    const refused = this.closed.then(({ code, reason }) => {
      throw new Error(`closed with ${code} ${reason} instead of connection_ack`);
    });
    const ack = await Promise.race([this.control.take(5000, 'connection_ack'), refused]);
    if (ack.type !== 'connection_ack') throw new Error(`expected connection_ack, got ${JSON.stringify(ack)}`);
  }

  subscribe(id: string, query: string, variables?: Record<string, unknown>): AsyncQueue<string> {
    this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, ...(variables ? { variables } : {}) } }));
    return this.queue(id);
  }

  complete(id: string): void {
    this.socket.send(JSON.stringify({ id, type: 'complete' }));
  }

  queue(id: string): AsyncQueue<string> {
    let queue = this.frames.get(id);
    if (!queue) {
      queue = new AsyncQueue<string>();
      this.frames.set(id, queue);
    }
    return queue;
  }

  close(): void {
    this.socket.close();
  }
}
