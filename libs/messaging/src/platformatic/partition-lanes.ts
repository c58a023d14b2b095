/**
 * The records a stream consumer fetched and has not handled yet, per assigned partition, in
 * offset order. The stream fetches ahead and, after every assignment change, rewinds the
 * partitions it keeps to their committed offsets; the lanes drop what they already hold or
 * handled, so each record is handed once per ownership, in order. Pure.
 */
interface Lane<R> {
  /** A new number each time the partition is (re)assigned: a batch of an older one is stale. */
  generation: number;
  /** The offset after the last record accepted; -1 until the first. */
  next: bigint;
  queue: R[];
}

export interface LaneRecord {
  partition: number;
  offset: bigint;
}

export class PartitionLanes<R extends LaneRecord> {
  private readonly lanes = new Map<number, Lane<R>>();
  private generations = 0;
  private total = 0;

  /** The partitions now assigned; returns those that moved away (their queues are dropped). */
  assign(partitions: readonly number[]): { revoked: number[]; added: number[] } {
    const keep = new Set(partitions);
    const revoked: number[] = [];
    for (const [partition, lane] of this.lanes)
      if (!keep.has(partition)) {
        this.total -= lane.queue.length;
        this.lanes.delete(partition);
        revoked.push(partition);
      }
    const added = partitions.filter((p) => !this.lanes.has(p));
    for (const partition of added)
      this.lanes.set(partition, { generation: ++this.generations, next: -1n, queue: [] });
    return { revoked, added };
  }

  partitions(): number[] {
    return [...this.lanes.keys()];
  }

  /** Queues a fetched record; false when its partition is not ours or the record is not new. */
  accept(record: R): boolean {
    const lane = this.lanes.get(record.partition);
    if (!lane || record.offset < lane.next) return false;
    lane.next = record.offset + 1n;
    lane.queue.push(record);
    this.total++;
    return true;
  }

  /** The next batch of a partition (at most `max` records), removed from its queue. */
  take(partition: number, max: number): R[] {
    const lane = this.lanes.get(partition);
    if (!lane || lane.queue.length === 0) return [];
    const batch = lane.queue.splice(0, max);
    this.total -= batch.length;
    return batch;
  }

  /** Records still queued behind the next batch of a partition. */
  queuedIn(partition: number): number {
    return this.lanes.get(partition)?.queue.length ?? 0;
  }

  queued(): number {
    return this.total;
  }

  generation(partition: number): number | undefined {
    return this.lanes.get(partition)?.generation;
  }

  /** The offset after the last record accepted for a partition (undefined: none yet). */
  fetchedUpTo(partition: number): bigint | undefined {
    const next = this.lanes.get(partition)?.next;
    return next === undefined || next < 0n ? undefined : next;
  }
}
