import type { CommitWatermarks, PartitionOffset } from './commit-watermarks';
import { withTimeout } from './with-timeout';

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
    /**
     * A commit with no answer by then counts as failed, so that the next one can go: a commit
     * sent as the broker died was seen to hang 60 s, holding every later one (and a leave) back.
     * If it lands after all, it only moves the commit back: records are replayed, never lost.
     */
    private readonly timeoutMs = COMMIT_TIMEOUT_MS,
  ) {}

  commit(): Promise<void> {
    if (this.committing) return this.committing;
    const offsets = this.watermarks.pending();
    if (offsets.length === 0) return Promise.resolve();
    this.committing = withTimeout(
      this.send(offsets),
      this.timeoutMs,
      () => new CommitTimeoutError(this.timeoutMs),
    )
      .then(() => this.watermarks.committedAt(offsets), this.onFailure)
      .finally(() => (this.committing = undefined));
    return this.committing;
  }
}

export const COMMIT_TIMEOUT_MS = 10_000;

export class CommitTimeoutError extends Error {
  constructor(ms: number) {
    super(`the offset commit got no answer in ${ms} ms`);
    this.name = 'CommitTimeoutError';
  }
}
