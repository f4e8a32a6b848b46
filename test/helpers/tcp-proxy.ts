import net from 'node:net';

/**
 * A TCP proxy in front of a server that a test can break on purpose: `cut()` destroys every connection and refuses
 * new ones, `stall()` stops forwarding while keeping the sockets open (the peer's writes back up, as on a frozen
 * network), `dropReplies()` forwards requests but swallows what comes back, `restore()` returns to normal, and
 * `retarget()` points new connections at another port (a restarted server).
 */
export class TcpProxy {
  private mode: 'open' | 'cut' | 'stalled' | 'dropReplies' = 'open';
  private readonly pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  /** Connections accepted so far. */
  connectionsAccepted = 0;

  private constructor(
    private readonly server: net.Server,
    private targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = net.createServer((client) => proxy.accept(client));
    proxy = new TcpProxy(server, targetPort);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** `http://127.0.0.1:<port>/graphql` through the proxy. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/graphql`;
  }

  /** Destroys every connection; new ones are destroyed on arrival until `restore()`. */
  cut(): void {
    this.mode = 'cut';
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Stops forwarding in both directions; sockets stay open and new ones are held too. */
  stall(): void {
    this.mode = 'stalled';
    for (const { client, upstream } of this.pairs) {
      client.pause();
      upstream.pause();
    }
  }

  /** Forwards what clients send, drops whatever the server sends back (an acknowledgement lost on the way). */
  dropReplies(): void {
    this.mode = 'dropReplies';
  }

  /** Forwards normally again (held bytes of stalled sockets flow on). */
  restore(): void {
    this.mode = 'open';
    for (const { client, upstream } of this.pairs) {
      client.resume();
      upstream.resume();
    }
  }

  /** New connections go to `port` from now on. */
  retarget(port: number): void {
    this.targetPort = port;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.connectionsAccepted++;
    if (this.mode === 'cut') return void client.destroy();
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const pair = { client, upstream };
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    this.forward(client, upstream, false);
    this.forward(upstream, client, true);
    if (this.mode === 'stalled') {
      client.pause();
      upstream.pause();
    }
  }

  /** Copies `from` to `to` with backpressure; a reply in dropReplies mode is read and discarded. */
  private forward(from: net.Socket, to: net.Socket, isReply: boolean): void {
    from.on('data', (chunk: Buffer) => {
      if (isReply && this.mode === 'dropReplies') return;
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => this.mode !== 'stalled' && from.resume());
      }
    });
  }
}
