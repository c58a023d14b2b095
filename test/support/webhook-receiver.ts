import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the wire, asserted field by field
type Json = Record<string, any>;

/** One request the receiver got, as the wire carried it. */
export interface WebhookRequest {
  event: string;
  delivery: string;
  signature: string;
  raw: string;
  body: Json;
  /** The status the receiver answered with. */
  status: number;
  at: number;
}

/** What the receiver answers: a status and an optional JSON body, perhaps after a delay. */
export interface WebhookAnswer {
  status: number;
  body?: unknown;
  delayMs?: number;
}

/**
 * An app server's webhook endpoint for the end-to-end specs: records every request and answers
 * what `answer` decides. A real HTTP server, so the backend's calls are what an app would see.
 */
export class WebhookReceiver {
  readonly requests: WebhookRequest[] = [];
  answer: (request: Omit<WebhookRequest, 'status' | 'at'>) => WebhookAnswer = () => ({
    status: 200,
    body: {},
  });
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/im-webhooks`;
  }

  async stop(): Promise<void> {
    // Keep-alive sockets the backend holds must not keep the spec's process alive.
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  of(event: string): WebhookRequest[] {
    return this.requests.filter((r) => r.event === event);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const request = {
      event: String(req.headers['x-im-event'] ?? ''),
      delivery: String(req.headers['x-im-delivery'] ?? ''),
      signature: String(req.headers['x-im-signature'] ?? ''),
      raw,
      body: JSON.parse(raw) as Json,
    };
    const answer = this.answer(request);
    this.requests.push({ ...request, status: answer.status, at: Date.now() });
    if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
    if (res.destroyed) return;
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }
}
