import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@im/realtime';
import type { AppConfig } from '@im/config';
import { createRedis } from '@im/realtime';
import type { ClientConnection } from '../../apps/gateway/src/connections/client-connection';
import { MessageLimiter } from '../../apps/gateway/src/limits/message-limiter.service';

/**
 * The per-user limit across two gateways (two limiters over one real RedisClient): each decides in
 * memory, and what one let through reaches the other through Redis within a flush.
 */
describe('per-user message limit across gateways (real RedisClient)', () => {
  const clients: RedisClient[] = [];
  const config = { RATE_LIMIT_CONNECTION_PER_SEC: 1000, RATE_LIMIT_USER_PER_SEC: 10 } as AppConfig;
  const gateway = () => {
    const redis = createRedis('redis://127.0.0.1:6379', `medium-rate-${randomUUID().slice(0, 8)}:`);
    clients.push(redis);
    return redis;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('counts what the other gateway let through once both have flushed', async () => {
    const redis = gateway();
    // Both gateways of one deployment share the prefix.
    const [a, b] = [new MessageLimiter(config, redis), new MessageLimiter(config, redis)];
    const connection = (userId: string) => ({ userId }) as unknown as ClientConnection;
    const [onA, onB] = [connection('carol'), connection('carol')];
    // Inside one second window, so the counts share a Redis key.
    const now = Math.floor(Date.now() / 1000) * 1000 + 10;

    for (let i = 0; i < 8; i++) expect(a.check(onA, now)).toBe(true);
    await a.flush(now);
    expect(b.check(onB, now)).toBe(true); // B has not heard of A's 8 yet
    await b.flush(now); // Redis answers 9: 8 of them were A's
    expect(b.check(onB, now)).toBe(true);
    expect(b.check(onB, now)).toBe(false);
    expect(a.check(onA, now)).toBe(true); // A's view: 8 of its own, 0 others; it learns at its flush
    await a.flush(now);
    expect(a.check(onA, now)).toBe(false);
  });
});
