import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@im/realtime';
import type { ConversationsRepository } from '@im/database';
import { createRedis, GatewayBus, GatewayEnvelope, MembershipMemo, MembershipService } from '@im/realtime';

/**
 * Regression (chaos short profile in CI): the end-to-end stack and the chaos stack shared one
 * Redis with the same key names. After the chaos FLUSHALL, the other stack's delivery claimed
 * the chaos stack's pending re-pushes, checked membership against its own database and cached
 * "no members" for a chaos conversation, whose senders then got `forbidden` for ten minutes.
 * Every key and channel now carries the deployment's prefix (REDIS_KEY_PREFIX).
 */
describe('Redis namespaces (real RedisClient)', () => {
  const url = 'redis://127.0.0.1:6379';
  const run = randomUUID().slice(0, 8);
  const clients: RedisClient[] = [];
  const client = (keyPrefix: string) => {
    const c = createRedis(url, keyPrefix);
    clients.push(c);
    return c;
  };
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit()));
  });

  /** A deployment's membership, over a database that knows these members (Redis only: no memo is trusted). */
  const membership = (redis: RedisClient, members: Record<string, string[]>) =>
    new MembershipService(
      redis,
      { memberIds: async (id: string) => members[id] ?? [] } as unknown as ConversationsRepository,
      new MembershipMemo({ maxConversations: 10, ttlMs: 60_000 }),
    );

  it("keeps one deployment's membership cache out of another's", async () => {
    const conversationId = randomUUID();
    const ours = membership(client(`medium-a-${run}:`), { [conversationId]: ['alice', 'bob'] });
    const theirs = membership(client(`medium-b-${run}:`), {});

    // The other deployment's database has no such conversation, and it caches that.
    expect(await theirs.isMember(conversationId, 'alice')).toBe(false);
    expect(await ours.isMember(conversationId, 'alice')).toBe(true);
    expect(await ours.members(conversationId)).toEqual(expect.arrayContaining(['alice', 'bob']));
  });

  it("delivers a gateway envelope only within the publisher's deployment", async () => {
    const gatewayId = 'gateway-0';
    const received = { a: [] as GatewayEnvelope[], b: [] as GatewayEnvelope[] };
    await GatewayBus.subscribe(client(`medium-a-${run}:`), gatewayId, (e) => received.a.push(e));
    await GatewayBus.subscribe(client(`medium-b-${run}:`), gatewayId, (e) => received.b.push(e));
    const envelope: GatewayEnvelope = { kind: 'close', userId: 'alice', code: 4401, reason: 'test' };

    await new GatewayBus(client(`medium-a-${run}:`)).publishMany([{ gatewayId, envelope }]);
    for (let i = 0; i < 50 && received.a.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(received.a).toEqual([envelope]);
    expect(received.b).toEqual([]);
  });
});
