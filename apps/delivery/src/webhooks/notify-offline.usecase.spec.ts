import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '@im/config';
import type { ConsumedBatch, OfflineNotice } from '@im/messaging';
import { WebhookCaller } from '@im/webhooks';
import { NotifyOfflineUseCase } from './notify-offline.usecase';

/** The retry loop against a real local HTTP server: same delivery id, commit only after every 2xx. */
describe('NotifyOfflineUseCase', () => {
  let server: Server;
  let url: string;
  const seen: { delivery: string; messageId: string }[] = [];
  let failuresLeft = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        seen.push({ delivery: String(req.headers['x-im-delivery']), messageId: JSON.parse(raw).messageId });
        res.writeHead(failuresLeft-- > 0 ? 503 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    seen.length = 0;
    failuresLeft = 0;
  });

  const useCase = () => {
    const config = {
      WEBHOOK_URL: url,
      WEBHOOK_SECRET: 's'.repeat(20),
      WEBHOOK_OFFLINE_TIMEOUT_MS: 1000,
      WEBHOOK_RETRY_INITIAL_MS: 10,
      WEBHOOK_RETRY_MAX_MS: 20,
      WEBHOOK_CONCURRENCY: 4,
    } as AppConfig;
    return new NotifyOfflineUseCase(config, new WebhookCaller(config));
  };
  const notice = (n: number): OfflineNotice => ({
    messageId: `m${n}`,
    conversationId: 'c1',
    seq: n,
    senderId: 'alice',
    contentType: 'text',
    preview: `hi ${n}`,
    recipients: ['bob'],
    storedAt: Date.now(),
  });
  const batch = (events: OfflineNotice[], isStale = () => false): ConsumedBatch<'offline'> => ({
    partition: 0,
    events,
    isStale,
    lag: 0,
  });

  it('retries a refused notice with the same delivery id until a 2xx, then lets the batch commit', async () => {
    failuresLeft = 3;
    const outcome = await useCase().execute(batch([notice(1)]));
    expect(outcome).toBeUndefined();
    expect(seen.map((s) => s.delivery)).toEqual(Array(4).fill('offline-m1'));
  });

  it('delivers every notice of a batch', async () => {
    await useCase().execute(batch([1, 2, 3, 4, 5, 6].map(notice)));
    expect(seen.map((s) => s.messageId).sort()).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });

  it('leaves the batch uncommitted once its partition moved, or the service stops', async () => {
    failuresLeft = 1_000_000;
    let stale = false;
    const moved = useCase().execute(batch([notice(1)], () => stale));
    await new Promise((r) => setTimeout(r, 50));
    stale = true;
    expect(await moved).toBe('abandoned');

    const stopping = useCase();
    const stopped = stopping.execute(batch([notice(2)]));
    await new Promise((r) => setTimeout(r, 50));
    stopping.stop();
    expect(await stopped).toBe('abandoned');
  });
});
