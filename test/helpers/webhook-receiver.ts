import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AsyncQueue } from './async-queue.js';

/** One POST as the receiver saw it, with its signature checked the way the README tells operators to. */
export interface ReceivedWebhook {
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** The parsed JSON body. */
  notification: Record<string, unknown> & { id: string; kind: string; recipientId: string; messageId: string };
  /** The signature header is the HMAC-SHA256 of "<timestamp>.<raw body>" under the shared secret. */
  signatureValid: boolean;
  /** Seconds between the signed timestamp and the receiver's clock. */
  timestampSkewSeconds: number;
}

/** How the receiver answers a request: a status, or 'hang' to hold it open until `releaseHeld`. */
export type WebhookAnswer = number | 'hang';

/** A node:http webhook receiver on port 0 that verifies every request's signature. */
export class WebhookReceiver {
  readonly received = new AsyncQueue<ReceivedWebhook>();
  /** Decides each answer; 200 unless a test says otherwise. */
  answer: (request: ReceivedWebhook) => WebhookAnswer = () => 200;
  private readonly held: http.ServerResponse[] = [];
  private readonly server: http.Server;

  private constructor(private readonly secret: string) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        const request: ReceivedWebhook = {
          headers: req.headers,
          rawBody,
          notification: JSON.parse(rawBody),
          signatureValid: this.verify(req.headers, rawBody),
          timestampSkewSeconds: Math.abs(Date.now() / 1000 - Number(req.headers['x-parley-timestamp'])),
        };
        const answer = this.answer(request);
        this.received.push(request);
        if (answer === 'hang') this.held.push(res);
        else res.writeHead(answer).end();
      });
    });
  }

  static async start(secret: string): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret);
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/parley-webhook`;
  }

  /** Requests held open right now. */
  get heldCount(): number {
    return this.held.length;
  }

  /** Answers every held request with `status`. */
  releaseHeld(status = 200): void {
    for (const res of this.held.splice(0)) res.writeHead(status).end();
  }

  async close(): Promise<void> {
    this.releaseHeld(503);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private verify(headers: http.IncomingHttpHeaders, rawBody: string): boolean {
    const timestamp = headers['x-parley-timestamp'];
    const signature = headers['x-parley-signature'];
    if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
    const expected = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(`${timestamp}.${rawBody}`).digest('hex')}`);
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
