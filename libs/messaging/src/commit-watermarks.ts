/**
 * Which offsets a consumer may commit: per partition, the offset after the last batch whose
 * output is durable (its handler resolved). Committed on an interval and when partitions move,
 * never per batch. Pure: the consumer feeds it batches, assignments and commit results.
 */
export interface PartitionOffset {
  partition: number;
  /** The next offset to consume, as Kafka commits it (last handled + 1), as a string. */
  offset: string;
}

export class CommitWatermarks {
  /** Per partition, the highest offset handled durably, plus one. */
  private readonly next = new Map<number, bigint>();
  /** Per partition, what the broker last accepted from us. */
  private readonly committed = new Map<number, bigint>();

  /** A batch ending at `lastOffset` is durable. Never moves a partition back (a replay after a rebalance handles lower offsets again). */
  handled(partition: number, lastOffset: string): void {
    const candidate = BigInt(lastOffset) + 1n;
    const current = this.next.get(partition);
    if (current === undefined || candidate > current) this.next.set(partition, candidate);
  }

  /** What is durable but not committed yet. */
  pending(): PartitionOffset[] {
    const out: PartitionOffset[] = [];
    for (const [partition, offset] of this.next)
      if (this.committed.get(partition) !== offset) out.push({ partition, offset: offset.toString() });
    return out;
  }

  /** The broker accepted these. */
  committedAt(offsets: readonly PartitionOffset[]): void {
    for (const { partition, offset } of offsets) this.committed.set(partition, BigInt(offset));
  }

  /**
   * After a rebalance: forget partitions that moved away, so an old watermark is never
   * committed over the new owner's progress.
   */
  assigned(partitions: readonly number[]): void {
    const keep = new Set(partitions);
    for (const partition of [...this.next.keys()])
      if (!keep.has(partition)) {
        this.next.delete(partition);
        this.committed.delete(partition);
      }
  }
}
