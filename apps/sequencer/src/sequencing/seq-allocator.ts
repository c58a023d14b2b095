/**
 * Hands out seqs per conversation from blocks reserved durably in PostgreSQL.
 *
 * A block is (ceiling - size, ceiling]: the ceiling is written to PostgreSQL before any
 * seq of the block is used, so every seq ever handed out is <= the stored ceiling. State
 * here is in memory and dropped on every partition rebalance and restart; the next
 * message of a conversation then reserves a fresh block above the stored ceiling. Seqs
 * therefore stay unique and increasing whatever happens to this process or to Redis, at
 * the price of a gap (at most one block) after a fault.
 *
 * A conversation may hold several blocks in a queue (a batch that needs more seqs than are
 * left reserves the rest in the same round trip); seqs come from the oldest first. Each block
 * carries an optional tag, given back with each of its seqs (the sequencer marks blocks that
 * are fresh for the batch in progress).
 */
export class SeqAllocator<Tag = unknown> {
  private readonly blocks = new Map<string, { next: number; ceiling: number; tag?: Tag }[]>();

  /** The next seq and its block's tag, or null when the conversation needs a new block first. */
  take(conversationId: string): { seq: number; tag?: Tag } | null {
    const queue = this.blocks.get(conversationId);
    while (queue && queue.length > 0 && queue[0].next > queue[0].ceiling) queue.shift();
    if (!queue || queue.length === 0) return null;
    return { seq: queue[0].next++, tag: queue[0].tag };
  }

  /** How many seqs the conversation has left without a new block. */
  remaining(conversationId: string): number {
    return (this.blocks.get(conversationId) ?? []).reduce(
      (n, b) => n + Math.max(0, b.ceiling - b.next + 1),
      0,
    );
  }

  /** Queues a freshly reserved block whose highest seq is `ceiling`. */
  addBlock(conversationId: string, ceiling: number, size: number, tag?: Tag): void {
    const queue = this.blocks.get(conversationId) ?? [];
    queue.push({ next: ceiling - size + 1, ceiling, tag });
    this.blocks.set(conversationId, queue);
  }

  /** Forget one conversation's blocks: another instance has numbered above them. */
  drop(conversationId: string): void {
    this.blocks.delete(conversationId);
  }

  /** Forget everything (after a rebalance another instance may have used our blocks' conversations). */
  reset(): void {
    this.blocks.clear();
  }
}
