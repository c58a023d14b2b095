import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@im/realtime';
import type { ConversationsRepository } from '@im/database';
import { metrics } from '@im/metrics';
import { createRedis, MembershipInvalidations, MembershipMemo, MembershipService } from '@im/realtime';

/**
 * Two processes' membership (each its own memo and subscriber) over one real Redis and a shared
 * "database": a change made through one is seen by the other at once, and a process whose
 * subscriber connection is cut stops answering from its memo.
 */
describe('Membership memo across processes (real RedisClient)', () => {
  const url = 'redis://127.0.0.1:6379';
  const prefix = `medium-memo-${randomUUID().slice(0, 8)}:`;
  const clients: RedisClient[] = [];
  const listeners: MembershipInvalidations[] = [];
  const database: Record<string, string[]> = {};
  const repository = {
    memberIds: async (id: string) => [...(database[id] ?? [])],
  } as unknown as ConversationsRepository;

  const process = async () => {
    const redis = createRedis(url, prefix);
    const subscriber = createRedis(url, prefix);
    clients.push(redis);
    const memo = new MembershipMemo({ maxConversations: 100, ttlMs: 60_000 });
    const listener = new MembershipInvalidations(subscriber, memo);
    listeners.push(listener);
    listener.onApplicationBootstrap();
    await until(() => memo.isTrusted);
    return { memberships: new MembershipService(redis, repository, memo), memo, subscriber };
  };

  afterAll(async () => {
    await Promise.all(listeners.map((l) => l.onApplicationShutdown()));
    await Promise.all(clients.map((c) => c.quit()));
  });

  const memoLookups = () =>
    Number(/im_membership_lookups_total\{answeredBy="memo"\} (\d+)/.exec(metrics.render())?.[1] ?? 0);

  it('answers from memory, and a removal through another process takes access away at once', async () => {
    const conversationId = randomUUID();
    database[conversationId] = ['alice', 'carol'];
    const [a, b] = [await process(), await process()];

    expect(await b.memberships.isMember(conversationId, 'carol')).toBe(true);
    const before = memoLookups();
    expect(await b.memberships.isMember(conversationId, 'carol')).toBe(true);
    expect(memoLookups()).toBe(before + 1);

    database[conversationId] = ['alice'];
    await a.memberships.invalidate(conversationId);
    await until(() => b.memo.get(conversationId, Date.now()) === undefined);
    expect(await b.memberships.isMember(conversationId, 'carol')).toBe(false);
    expect(await b.memberships.members(conversationId)).toEqual(['alice']);
  });

  it('stops answering from memory while its subscriber is disconnected, and trusts again once back', async () => {
    const conversationId = randomUUID();
    database[conversationId] = ['alice'];
    const b = await process();
    await b.memberships.members(conversationId);
    expect(b.memo.get(conversationId, Date.now())).toBeDefined();

    b.subscriber.disconnect(true); // reconnects on its own
    await until(() => !b.memo.isTrusted);
    expect(b.memo.get(conversationId, Date.now())).toBeUndefined();
    await until(() => b.memo.isTrusted);
    await b.memberships.members(conversationId);
    expect(b.memo.get(conversationId, Date.now())).toBeDefined();
  });
});

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
