import WebSocket from 'ws';

const SEND = 'mutation($r: ID!, $b: String!) { sendMessage(roomId: $r, body: $b) { seq } }';

/** Sends messages as one user over one graphql-ws socket, the way a chat client does; each send is one mutation. */
export class WsSender {
  private readonly pending = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  private nextId = 0;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { id?: string; type: string; payload?: { errors?: unknown } };
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiter) return;
      if (message.type === 'next' && !message.payload?.errors) waiter.resolve();
      else if (message.type === 'next' || message.type === 'error') waiter.reject(new Error(JSON.stringify(message.payload)));
      else return; // complete
      this.pending.delete(message.id!);
    });
  }

  static open(port: number, token: string, localAddress: string): Promise<WsSender> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/graphql`, 'graphql-transport-ws', { perMessageDeflate: false, localAddress });
      socket.once('error', reject);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      socket.once('message', (data: Buffer) => {
        if (data.toString().includes('connection_ack')) resolve(new WsSender(socket));
        else reject(new Error(`no ack: ${data.toString()}`));
      });
    });
  }

  send(roomId: string, body: string): Promise<void> {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: SEND, variables: { r: roomId, b: body } } }));
    });
  }

  close(): void {
    this.socket.terminate();
  }
}
