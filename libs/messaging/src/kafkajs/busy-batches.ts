/**
 * The batches a kafkajs consumer is handling, and how to heartbeat for them. kafkajs heartbeats
 * only between batches: with a short session timeout, a batch that waits for a restarting
 * dependency would get its consumer thrown out of the group. One heartbeat serves the whole
 * consumer, and only while some batch is younger than `limitMs`: past it, the broker's failure
 * detection takes over, so a handler stuck for good does not hold its partitions for good.
 */
export class BusyBatches {
  private readonly batches = new Map<Promise<void>, { startedAt: number; heartbeat: () => Promise<void> }>();

  constructor(private readonly limitMs: number) {}

  get size(): number {
    return this.batches.size;
  }

  /** Tracks `batch` until it settles; settles like it. */
  async track(batch: Promise<void>, heartbeat: () => Promise<void>, now = Date.now()): Promise<void> {
    this.batches.set(batch, { startedAt: now, heartbeat });
    try {
      await batch;
    } finally {
      this.batches.delete(batch);
    }
  }

  /** Sends one heartbeat for a batch still young enough; a failure (a rebalance) is kafkajs's to act on. */
  heartbeat(now = Date.now()): void {
    for (const batch of this.batches.values())
      if (now - batch.startedAt <= this.limitMs) {
        batch.heartbeat().catch(() => undefined);
        return;
      }
  }

  /** Settles once every batch tracked now has. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.batches.keys()]);
  }
}
