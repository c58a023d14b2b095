import type { AppConfig } from '@im/config';
import type { Assignment, ClaimResult, ConversationClaim, IdempotencyGuard } from '@im/idempotency';
import type { BatchProducer, InboundMessage, SequencedMessage } from '@im/messaging';
import type { SeqBlockRepository } from './seq-block.repository';
import { SequenceBatchUseCase } from './sequence-batch.usecase';

/** The sequencer's decisions with Redis and PostgreSQL faked (their real behaviour has medium specs). */
describe('SequenceBatchUseCase', () => {
  function setup(fenceFirstClaimOf?: string) {
    const known = new Map<string, Assignment>();
    const claims: ConversationClaim[][] = [];
    const guard = {
      lookup: async (keys: string[]) => keys.map((k) => known.get(k) ?? null),
      claim: async (conversations: ConversationClaim[]): Promise<ClaimResult> => {
        claims.push(conversations);
        const fenced = new Set<string>();
        if (claims.length === 1 && fenceFirstClaimOf) fenced.add(fenceFirstClaimOf);
        const winners = new Map<string, Assignment>();
        for (const c of conversations)
          if (!fenced.has(c.conversationId))
            for (const e of c.entries) {
              known.set(e.key, e.assignment);
              winners.set(e.key, e.assignment);
            }
        return { winners, fenced };
      },
    } as unknown as IdempotencyGuard;
    let ceiling = 0;
    const reserved: { conversationId: string; size: number; ceiling: number; first: boolean }[] = [];
    const blocks = {
      reserve: async (requests: { conversationId: string; size: number }[]) =>
        requests.map((r) => {
          ceiling += r.size;
          const block = { ...r, ceiling, first: reserved.length === 0 };
          reserved.push(block);
          return block;
        }),
    } as unknown as SeqBlockRepository;
    const published: SequencedMessage[] = [];
    const producer = {
      publishAll: async (_topic: string, items: { event: SequencedMessage }[]) =>
        void published.push(...items.map((i) => i.event)),
    } as unknown as BatchProducer;
    const config = { SEQ_BLOCK_SIZE: 10 } as AppConfig;
    return {
      sequence: new SequenceBatchUseCase(guard, blocks, producer, config),
      published,
      reserved,
      claims,
    };
  }
  const message = (clientMsgId: string, conversationId = 'c1'): InboundMessage => ({
    conversationId,
    senderId: 'alice',
    clientMsgId,
    contentType: 'text',
    body: { text: clientMsgId },
    origin: null,
    acceptedAt: 0,
  });
  const run = async (sequence: SequenceBatchUseCase, batch: InboundMessage[], isStale?: () => boolean) => {
    const outcome = await sequence.execute(batch, isStale);
    if (outcome !== 'abandoned') await outcome.durable;
    return outcome;
  };

  it('numbers a batch in partition order from one block, and publishes it in that order', async () => {
    const { sequence, published, reserved } = setup();
    await run(sequence, [message('a'), message('b'), message('c')]);
    expect(published.map((m) => [m.clientMsgId, m.seq, m.retry])).toEqual([
      ['a', 1, false],
      ['b', 2, false],
      ['c', 3, false],
    ]);
    expect(reserved).toHaveLength(1);
  });

  it('gives a resend its first assignment, as a retry, in the same batch and in later ones', async () => {
    const { sequence, published } = setup();
    await run(sequence, [message('a'), message('a')]);
    await run(sequence, [message('a')]);
    expect(published.map((m) => [m.seq, m.messageId === published[0].messageId, m.retry])).toEqual([
      [1, true, false],
      [1, true, true],
      [1, true, true],
    ]);
  });

  it('numbers a fenced conversation again from a new block, above the one it was fenced in', async () => {
    const { sequence, published, reserved, claims } = setup('c1');
    await run(sequence, [message('a'), message('x', 'c2')]);
    expect(claims).toHaveLength(2);
    const a = published.find((m) => m.clientMsgId === 'a')!;
    const fencedBlock = reserved.find((r) => r.conversationId === 'c1')!;
    expect(a.seq).toBeGreaterThan(fencedBlock.ceiling);
    // The second claim of c1 comes from a block reserved after the fence: fresh.
    expect(claims[1]).toEqual([expect.objectContaining({ conversationId: 'c1', freshBlock: true })]);
  });

  it('abandons a batch whose partition moved before it claims anything', async () => {
    const { sequence, published, claims } = setup();
    expect(await run(sequence, [message('a')], () => true)).toBe('abandoned');
    expect(claims).toEqual([]);
    expect(published).toEqual([]);
  });
});
