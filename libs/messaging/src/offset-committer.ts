import type { CommitWatermarks, PartitionOffset } from './commit-watermarks';

/**
 * Commits the watermarks of durable batches that are not committed yet, through the client's
 * own commit call: one commit at a time (a call during one joins it), and a failed commit (a
 * rebalance, a broker restart) is only reported: the next call tries again, and meanwhile the
 * next owner of a partition replays from the last commit.
 */
export class OffsetCommitter {
  private committing?: Promise<void>;

  constructor(
    private readonly watermarks: CommitWatermarks,
    private readonly send: (offsets: PartitionOffset[]) => Promise<unknown>,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  commit(): Promise<void> {
    if (this.committing) return this.committing;
    const offsets = this.watermarks.pending();
    if (offsets.length === 0) return Promise.resolve();
    this.committing = this.send(offsets)
      .then(() => this.watermarks.committedAt(offsets), this.onFailure)
      .finally(() => (this.committing = undefined));
    return this.committing;
  }
}
