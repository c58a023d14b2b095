import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { Assignment, ConversationClaim, IdempotencyGuard, idempotencyKey } from '@im/idempotency';
import { BatchProducer, InboundMessage, SequencedMessage } from '@im/messaging';
import { stageLatency } from '@im/metrics';
import { blockShortfall } from './block-shortfall';
import { dedupeHits, fencedClaims, sequenced } from './sequencer-metrics';
import { newSeqNeeds } from './new-seq-needs';
import { SeqAllocator } from './seq-allocator';
import { SeqBlockRepository } from './seq-block.repository';

interface BatchState {
  /** The winning assignment per idempotency key. */
  assigned: Map<string, Assignment>;
  /** messageIds this batch created (the others are retries). */
  isNew: Set<string>;
  /** Conversations fenced earlier in this batch: blocks reserved for them from now on are fresh. */
  fencedBefore: Set<string>;
}

/** A batch fenced this many times in a row is left to kafkajs's retry (and to the rebalance). */
const MAX_CLAIM_ATTEMPTS = 8;

/**
 * Gives each inbound message of one partition its seq and messageId, in order, and
 * publishes them. A retry (same conversation, sender, clientMsgId) gets its first
 * assignment again; the caller commits the input only once `durable` resolved.
 */
@Injectable()
export class SequenceBatchUseCase {
  readonly allocator = new SeqAllocator<BatchState>();

  constructor(
    private readonly guard: IdempotencyGuard,
    private readonly blocks: SeqBlockRepository,
    private readonly producer: BatchProducer,
    private readonly config: AppConfig,
  ) {}

  /**
   * `isStale` says the partition moved to another sequencer during a rebalance: the batch is
   * then abandoned before it claims anything. The claim's high-water fence covers the moments
   * `isStale` cannot see (see IdempotencyGuard): a conversation another instance has numbered
   * above our block is numbered again from a new block, so claims stay in seq order.
   */
  async execute(
    inbound: InboundMessage[],
    isStale: () => boolean = () => false,
  ): Promise<{ durable: Promise<void> } | 'abandoned'> {
    const keys = inbound.map((m) => idempotencyKey(m.conversationId, m.senderId, m.clientMsgId));
    const state: BatchState = {
      assigned: new Map(),
      isNew: new Set(),
      fencedBefore: new Set(),
    };
    const { assigned, isNew } = state;
    let pending = inbound.map((_, i) => i);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > MAX_CLAIM_ATTEMPTS) throw new Error('sequencing fenced repeatedly; retrying the batch');
      const fenced = await this.assign(inbound, keys, pending, state, isStale);
      if (fenced === 'abandoned') return 'abandoned';
      pending = pending.filter((i) => fenced.has(inbound[i].conversationId));
    }
    // A copy sent twice within the batch is new once: the later copy is a retry (acked, not pushed again).
    const output = inbound.map((m, i): SequencedMessage => {
      const assignment = assigned.get(keys[i])!;
      const retry = !isNew.has(assignment.messageId);
      isNew.delete(assignment.messageId);
      return { ...m, ...assignment, retry };
    });
    // Queued in order; the next batch is claimed while this one is produced (pipelined hop).
    const durable = this.producer
      .publishAll(
        'sequenced',
        output.map((event) => ({ key: event.conversationId, event })),
      )
      .then(() => {
        sequenced.inc({}, output.filter((m) => !m.retry).length);
        for (const m of output)
          if (!m.retry) stageLatency.observe({ stage: 'sequenced' }, (m.sentAt - m.acceptedAt) / 1000);
      });
    return { durable };
  }

  /** One claim round over the pending messages; returns the conversations that were fenced. */
  private async assign(
    inbound: InboundMessage[],
    keys: string[],
    pending: number[],
    state: BatchState,
    isStale: () => boolean,
  ): Promise<Set<string> | 'abandoned'> {
    const { assigned, isNew } = state;
    const pendingKeys = [...new Set(pending.map((i) => keys[i]))];
    const known = await this.guard.lookup(pendingKeys);
    const earlier = new Map<string, Assignment>();
    pendingKeys.forEach((key, i) => known[i] && earlier.set(key, known[i]));
    const { needs, reused, repeats } = newSeqNeeds(pending, keys, (i) => inbound[i].conversationId, earlier);
    dedupeHits.inc({}, repeats);
    for (const [key, assignment] of reused) assigned.set(key, assignment);
    await this.reserveFor(needs, state);
    const claims = new Map<string, ConversationClaim>();
    const proposed = new Map<string, Assignment>();
    for (const { key, conversationId } of needs) {
      const claim = claims.get(conversationId) ?? { conversationId, freshBlock: true, entries: [] };
      claims.set(conversationId, claim);
      const taken = this.allocator.take(conversationId);
      // A rebalance dropped our blocks while we reserved: start the batch over.
      if (!taken)
        throw new Error(`blocks of ${conversationId} were dropped by a rebalance; retrying the batch`);
      claim.freshBlock &&= taken.tag === state;
      const assignment = { seq: taken.seq, messageId: randomUUID(), sentAt: Date.now() };
      proposed.set(key, assignment);
      claim.entries.push({ key, assignment });
    }
    if (isStale()) return 'abandoned';
    const { winners, fenced } = await this.guard.claim([...claims.values()]);
    for (const [key, winner] of winners) {
      assigned.set(key, winner);
      if (winner.messageId === proposed.get(key)?.messageId) isNew.add(winner.messageId);
    }
    for (const conversationId of fenced) {
      fencedClaims.inc();
      this.allocator.drop(conversationId);
      state.fencedBefore.add(conversationId);
    }
    return fenced;
  }

  /**
   * Reserves, in one round trip, a block for every conversation that has fewer seqs left than
   * the batch needs. A block is tagged fresh for this batch when it is the conversation's first
   * ever or was reserved after a fence in this batch; freshness lasts only for the batch, since
   * by the next one Redis may have lost a high-water mark that another instance raised above it.
   */
  private async reserveFor(needs: { conversationId: string }[], state: BatchState): Promise<void> {
    const shortfall = blockShortfall(needs, (c) => this.allocator.remaining(c), this.config.SEQ_BLOCK_SIZE);
    for (const block of await this.blocks.reserve(shortfall)) {
      const fresh = block.first || state.fencedBefore.has(block.conversationId);
      this.allocator.addBlock(block.conversationId, block.ceiling, block.size, fresh ? state : undefined);
    }
  }
}
