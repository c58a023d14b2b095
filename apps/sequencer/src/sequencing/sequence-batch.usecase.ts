import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '@im/config';
import { Assignment, IdempotencyGuard, idempotencyKey } from '@im/idempotency';
import { BatchProducer, InboundMessage, SequencedMessage } from '@im/messaging';
import { REDIS } from '@im/realtime';
import { metrics, stageLatency } from '@im/metrics';
import { SeqAllocator } from './seq-allocator';
import { SeqBlockRepository } from './seq-block.repository';

const dedupeHits = metrics.counter(
  'im_sequencer_dedupe_hits_total',
  'Sends recognised as retries by clientMsgId',
);
const sequenced = metrics.counter('im_sequencer_messages_total', 'Messages sequenced');

/**
 * Gives each inbound message of one partition its seq and messageId, in order, and
 * publishes them. A retry (same conversation, sender, clientMsgId) gets its first
 * assignment again; the output is published before the caller commits the input.
 */
@Injectable()
export class SequenceBatchUseCase {
  private readonly guard: IdempotencyGuard;
  readonly allocator = new SeqAllocator();

  constructor(
    @Inject(REDIS) redis: Redis,
    private readonly blocks: SeqBlockRepository,
    private readonly producer: BatchProducer,
    private readonly config: AppConfig,
  ) {
    this.guard = new IdempotencyGuard(redis);
  }

  /**
   * `isStale` says the partition moved to another sequencer during a rebalance. Its new owner
   * numbers from a newer block; if both claimed the same messages' keys in turn, a connection's
   * later message could get the lower seq. So a stale batch is abandoned before it claims.
   */
  async execute(
    inbound: InboundMessage[],
    isStale: () => boolean = () => false,
  ): Promise<SequencedMessage[] | 'abandoned'> {
    const keys = inbound.map((m) => idempotencyKey(m.conversationId, m.senderId, m.clientMsgId));
    const known = await this.guard.lookup(keys);
    const assigned = new Map<string, Assignment>();
    const fresh: { key: string; assignment: Assignment }[] = [];

    for (let i = 0; i < inbound.length; i++) {
      const key = keys[i];
      const earlier = known[i] ?? assigned.get(key);
      if (earlier) {
        dedupeHits.inc();
        assigned.set(key, earlier);
        continue;
      }
      const assignment = {
        seq: await this.nextSeq(inbound[i].conversationId),
        messageId: randomUUID(),
        sentAt: Date.now(),
      };
      assigned.set(key, assignment);
      fresh.push({ key, assignment });
    }
    if (isStale()) return 'abandoned';
    // If another instance claimed a key meanwhile (a rebalance), its assignment wins.
    const winners = await this.guard.claim(fresh);
    fresh.forEach((f, i) => assigned.set(f.key, winners[i]));

    const isNew = new Set(fresh.map((f) => f.assignment.messageId));
    const output = inbound.map((m, i): SequencedMessage => {
      const assignment = assigned.get(keys[i])!;
      return { ...m, ...assignment, retry: !isNew.has(assignment.messageId) };
    });
    await this.producer.publishAll(
      'sequenced',
      output.map((event) => ({ key: event.conversationId, event })),
    );
    sequenced.inc({}, fresh.length);
    for (const m of output)
      if (!m.retry) stageLatency.observe({ stage: 'sequenced' }, (m.sentAt - m.acceptedAt) / 1000);
    return output;
  }

  private async nextSeq(conversationId: string): Promise<number> {
    const seq = this.allocator.take(conversationId);
    if (seq !== null) return seq;
    const size = this.config.SEQ_BLOCK_SIZE;
    this.allocator.addBlock(conversationId, await this.blocks.reserve(conversationId, size), size);
    return this.allocator.take(conversationId)!;
  }
}
