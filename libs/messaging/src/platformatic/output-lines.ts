/**
 * The outputs of a pipelined hop that were handed off and are not durable yet: per partition
 * one chain in batch order, so a batch counts as done only once its output and every earlier
 * output of the partition are durable. At most `maxInFlight` per partition; a partition whose
 * output failed takes no more batches until `clear()` (the consumer starts over from its last
 * commit, because the handler already handed on the batches after the failed one).
 */
export class OutputLines {
  private readonly lines = new Map<number, { chain: Promise<void>; inFlight: number }>();
  private readonly failed = new Set<number>();

  constructor(
    private readonly maxInFlight: number,
    private readonly onFailure: (partition: number, error: unknown) => void,
  ) {}

  /** Waits until the partition may hand off one more output. */
  async room(partition: number): Promise<void> {
    const line = this.lines.get(partition);
    if (line && line.inFlight >= this.maxInFlight) await line.chain.catch(() => undefined);
  }

  hasFailed(partition: number): boolean {
    return this.failed.has(partition);
  }

  /** Calls `done` once `durable` (none: nothing to wait for) and every earlier output of the partition are. */
  add(partition: number, durable: Promise<void> | undefined, done: () => void): void {
    let line = this.lines.get(partition);
    if (!durable && !line) return done();
    // Its failure is seen through the chain, or is moot behind an earlier one that failed; it
    // must never be an unhandled rejection.
    durable?.catch(() => undefined);
    if (!line) this.lines.set(partition, (line = { chain: Promise.resolve(), inFlight: 0 }));
    const current = line;
    current.inFlight++;
    current.chain = current.chain.then(() => durable).then(done);
    current.chain.then(
      () => {
        if (--current.inFlight === 0 && this.lines.get(partition) === current) this.lines.delete(partition);
      },
      (error: unknown) => {
        if (this.failed.has(partition)) return;
        this.failed.add(partition);
        this.onFailure(partition, error);
      },
    );
  }

  /** Settles once every output handed off so far is durable or failed. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.lines.values()].map((l) => l.chain));
  }

  clear(): void {
    this.lines.clear();
    this.failed.clear();
  }
}
