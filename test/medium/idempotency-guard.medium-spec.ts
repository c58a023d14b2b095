import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Assignment, IdempotencyGuard, highWaterKey, idempotencyKey } from '@im/idempotency';

/**
 * The claim against the real Redis: all or nothing per conversation, and the high-water fence
 * that keeps two sequencers briefly sharing a conversation (a rebalance) from reordering it.
 */
describe('IdempotencyGuard.claim (real Redis)', () => {
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: false });
  const guard = new IdempotencyGuard(redis);
  afterAll(() => redis.quit());

  const conversation = () => `medium-${randomUUID()}`;
  const entry = (conversationId: string, clientMsgId: string, seq: number) => ({
    key: idempotencyKey(conversationId, 'alice', clientMsgId),
    assignment: { seq, messageId: randomUUID(), sentAt: Date.now() } as Assignment,
  });

  it('claims a new conversation from its first block and records the high-water mark', async () => {
    const c = conversation();
    const [a, b] = [entry(c, 'a', 1), entry(c, 'b', 2)];
    const result = await guard.claim([{ conversationId: c, freshBlock: true, entries: [a, b] }]);
    expect(result.fenced.size).toBe(0);
    expect(result.winners.get(a.key)).toEqual(a.assignment);
    expect(result.winners.get(b.key)).toEqual(b.assignment);
    expect(await redis.get(highWaterKey(c))).toBe('2');
    expect((await guard.lookup([a.key, b.key])).map((x) => x?.seq)).toEqual([1, 2]);
  });

  it('fences an old block: a zombie numbering below what the new owner claimed writes nothing', async () => {
    const c = conversation();
    // The new owner claims A with seq 201 from its block (101, 200] … (201, 300].
    const newOwner = entry(c, 'A', 201);
    await guard.claim([{ conversationId: c, freshBlock: true, entries: [newOwner] }]);
    // The old owner, still working, claims A and B from its older block: B would get 151 < 201.
    const zombie = [entry(c, 'A', 150), entry(c, 'B', 151)];
    const result = await guard.claim([{ conversationId: c, freshBlock: false, entries: zombie }]);
    expect([...result.fenced]).toEqual([c]);
    expect(await redis.get(zombie[1].key)).toBeNull();
    expect(await redis.get(highWaterKey(c))).toBe('201');
  });

  it('lets a claim whose only new seqs are above the mark through, and keeps earlier winners', async () => {
    const c = conversation();
    const first = entry(c, 'A', 150);
    await guard.claim([{ conversationId: c, freshBlock: true, entries: [first] }]);
    const [again, next] = [entry(c, 'A', 201), entry(c, 'B', 202)];
    const result = await guard.claim([{ conversationId: c, freshBlock: false, entries: [again, next] }]);
    expect(result.fenced.size).toBe(0);
    expect(result.winners.get(again.key)).toEqual(first.assignment);
    expect(result.winners.get(next.key)).toEqual(next.assignment);
  });

  it('after Redis lost the mark, only a fresh block may claim', async () => {
    const c = conversation();
    await guard.claim([{ conversationId: c, freshBlock: true, entries: [entry(c, 'A', 1)] }]);
    await redis.del(highWaterKey(c)); // as FLUSHALL would
    const stale = await guard.claim([{ conversationId: c, freshBlock: false, entries: [entry(c, 'B', 2)] }]);
    expect([...stale.fenced]).toEqual([c]);
    const fresh = await guard.claim([{ conversationId: c, freshBlock: true, entries: [entry(c, 'B', 101)] }]);
    expect(fresh.fenced.size).toBe(0);
    expect(await redis.get(highWaterKey(c))).toBe('101');
  });

  it('fences per conversation: the other conversations of the batch are claimed', async () => {
    const [fencedConversation, fine] = [conversation(), conversation()];
    await guard.claim([
      {
        conversationId: fencedConversation,
        freshBlock: true,
        entries: [entry(fencedConversation, 'x', 300)],
      },
    ]);
    const ok = entry(fine, 'y', 1);
    const result = await guard.claim([
      { conversationId: fencedConversation, freshBlock: false, entries: [entry(fencedConversation, 'z', 7)] },
      { conversationId: fine, freshBlock: true, entries: [ok] },
    ]);
    expect([...result.fenced]).toEqual([fencedConversation]);
    expect(result.winners.get(ok.key)).toEqual(ok.assignment);
    expect(result.winners.size).toBe(1);
  });

  it('two claimers racing over the same keys never interleave: one wins every key', async () => {
    for (let round = 0; round < 20; round++) {
      const c = conversation();
      await guard.claim([{ conversationId: c, freshBlock: true, entries: [entry(c, 'seed', 1)] }]);
      const ids = Array.from({ length: 20 }, (_, i) => `m${i}`);
      const low = ids.map((id, i) => entry(c, id, 100 + i));
      const high = ids.map((id, i) => entry(c, id, 200 + i));
      const [x, y] = await Promise.all([
        guard.claim([{ conversationId: c, freshBlock: false, entries: low }]),
        guard.claim([{ conversationId: c, freshBlock: false, entries: high }]),
      ]);
      const winners = ids.map((_, i) => (x.winners.get(low[i].key) ?? y.winners.get(high[i].key))!.seq);
      // Whoever came second was fenced or saw every key taken: the seqs still increase with the ids.
      expect(winners).toEqual([...winners].sort((p, q) => p - q));
      expect(new Set(winners.map((s) => Math.floor(s / 100))).size).toBe(1);
    }
  });
});
