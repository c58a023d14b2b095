import { createHmac } from 'node:crypto';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '@im/config';
import { WebhookCaller, WebhookCallFailed } from './webhook-caller';

/** The caller against a real local HTTP server: headers, outcomes, and kept-alive connections. */
describe('WebhookCaller', () => {
  const secret = 'a-secret-of-twenty-chars';
  let server: Server;
  let port: number;
  let connections = 0;
  const received: { headers: Record<string, unknown>; raw: string }[] = [];
  let reply: (raw: string) => { status: number; body: string; delayMs?: number } = () => ({
    status: 200,
    body: 'ok',
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, raw });
        const r = reply(raw);
        setTimeout(() => res.writeHead(r.status).end(r.body), r.delayMs ?? 0);
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  const caller = (url = `http://127.0.0.1:${port}/hook`) =>
    new WebhookCaller({ WEBHOOK_URL: url, WEBHOOK_SECRET: secret } as AppConfig);
  const payload = {
    conversationId: 'c1',
    senderId: 'alice',
    clientMsgId: 'm1',
    contentType: 'text',
    body: { text: 'héllo' },
  };

  it('POSTs the signed JSON with its event and delivery id, and resolves with the answer', async () => {
    received.length = 0;
    reply = () => ({ status: 200, body: '{"action":"allow"}' });
    const c = caller();
    expect(await c.post('message.before_send', 'd-1', payload, 1000)).toBe('{"action":"allow"}');
    const [{ headers, raw }] = received;
    expect(JSON.parse(raw)).toEqual(payload);
    expect(headers['x-im-event']).toBe('message.before_send');
    expect(headers['x-im-delivery']).toBe('d-1');
    expect(headers['x-im-signature']).toBe(
      `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`,
    );
    c.onModuleDestroy();
  });

  it('keeps one connection alive across calls', async () => {
    reply = () => ({ status: 204, body: '' });
    const c = caller();
    const before = connections;
    for (let i = 0; i < 5; i++) await c.post('message.before_send', `d-${i}`, payload, 1000);
    expect(connections - before).toBe(1);
    c.onModuleDestroy();
  });

  it('fails with the outcome: a non-2xx status, no answer in time, nobody listening', async () => {
    const c = caller();
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: WebhookCallFailed) => [e.outcome, e.status],
      );
    reply = () => ({ status: 503, body: 'down' });
    expect(await failure(c.post('message.before_send', 'd', payload, 1000))).toEqual(['http_error', 503]);
    reply = () => ({ status: 200, body: '{}', delayMs: 300 });
    expect(await failure(c.post('message.before_send', 'd', payload, 50))).toEqual(['timeout', undefined]);
    c.onModuleDestroy();
    const nobody = caller('http://127.0.0.1:1/hook');
    expect(await failure(nobody.post('message.before_send', 'd', payload, 1000))).toEqual([
      'network',
      undefined,
    ]);
    nobody.onModuleDestroy();
  });
});
