/**
 * Hands out seqs per conversation from blocks reserved durably in PostgreSQL.
 *
 * A block is (ceiling - size, ceiling]: the ceiling is written to PostgreSQL before any
 * seq of the block is used, so every seq ever handed out is <= the stored ceiling. State
 * here is in memory and dropped on every partition rebalance and restart; the next
 * message of a conversation then reserves a fresh block above the stored ceiling. Seqs
 * therefore stay unique and increasing whatever happens to this process or to Redis, at
 * the price of a gap (at most one block) after a fault.
 */
export class SeqAllocator {
  private readonly ranges = new Map<string, { next: number; ceiling: number }>();

  /** The next seq, or null when the conversation needs a new block first. */
  take(conversationId: string): number | null {
    const range = this.ranges.get(conversationId);
    if (!range || range.next > range.ceiling) return null;
    return range.next++;
  }

  /** Installs a freshly reserved block whose highest seq is `ceiling`. */
  addBlock(conversationId: string, ceiling: number, size: number): void {
    this.ranges.set(conversationId, { next: ceiling - size + 1, ceiling });
  }

  /** Forget one conversation's block: another instance has numbered above it. */
  drop(conversationId: string): void {
    this.ranges.delete(conversationId);
  }

  /** Forget everything (after a rebalance another instance may have used our blocks' conversations). */
  reset(): void {
    this.ranges.clear();
  }
}
