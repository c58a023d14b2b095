/**
 * What the message.offline queue still holds, per partition: the notices of the batch being
 * delivered that have not had their 2xx yet, and the records known to be behind that batch.
 */
export class OfflineBacklog {
  private readonly partitions = new Map<number, { behind: number; undelivered: Map<string, number> }>();

  begin(
    partition: number,
    behind: number,
    notices: readonly { messageId: string; storedAt: number }[],
  ): void {
    this.partitions.set(partition, {
      behind,
      undelivered: new Map(notices.map((n) => [n.messageId, n.storedAt])),
    });
  }

  delivered(partition: number, messageId: string): void {
    this.partitions.get(partition)?.undelivered.delete(messageId);
  }

  /** The batch is over: delivered, or left to the partition's next owner. */
  end(partition: number): void {
    this.partitions.delete(partition);
  }

  /** Notices not delivered yet, counting those behind the batches in progress. */
  depth(): number {
    let depth = 0;
    for (const p of this.partitions.values()) depth += p.behind + p.undelivered.size;
    return depth;
  }

  /** When the oldest notice still undelivered was stored; undefined when none waits. */
  oldestStoredAt(): number | undefined {
    let oldest: number | undefined;
    for (const p of this.partitions.values())
      for (const storedAt of p.undelivered.values()) oldest = Math.min(oldest ?? storedAt, storedAt);
    return oldest;
  }
}
