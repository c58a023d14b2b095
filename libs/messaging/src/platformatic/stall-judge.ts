import { partitionsBehind } from './partitions-behind';

/** Where the topic's partitions stand, by partition: their ends and the group's committed offsets (-1 when none). */
export interface GroupPositions {
  ends: readonly bigint[];
  committed: readonly bigint[];
}

/** How long the broker may leave stall checks unanswered before the member is replaced anyway. */
export const UNANSWERED_LIMIT_MS = 60_000;

/**
 * Decides, for a member silent past the stall limit with nothing in progress, whether it is
 * stuck. Three ways a member can sit still while records wait, each seen in a run:
 * - a partition it holds has records past where it would fetch next;
 * - it holds no partition at all while some partition's committed offset lags its end and has
 *   not moved since the previous check (nobody serves it: the library never applied an
 *   assignment, or lost it, and says nothing);
 * - the broker has not answered the check itself for a minute (its connections are broken).
 * Pure: the caller asks the broker and passes the answer in, with the time.
 */
export class StallJudge {
  /** Unserved partitions at the previous check of a member holding none, with their committed offsets. */
  private unserved = new Map<number, bigint>();
  private unansweredSince?: number;

  /** The last check got no answer from the broker. */
  waitingForAnswer(): boolean {
    return this.unansweredSince !== undefined;
  }

  /** The reason to replace the member, or undefined when it is only idle. */
  judge(
    now: number,
    held: number[],
    fetchFrom: (partition: number) => bigint | undefined,
    positions: GroupPositions | undefined,
  ): string | undefined {
    if (!positions) {
      this.unansweredSince ??= now;
      const waited = now - this.unansweredSince;
      if (waited < UNANSWERED_LIMIT_MS) return undefined;
      this.unansweredSince = undefined;
      return `the broker has not answered its stall checks for ${Math.round(waited / 1000)} s`;
    }
    this.unansweredSince = undefined;
    const { ends, committed } = positions;
    // Where the stream would fetch from is unknown for a partition that never fetched: its commit says.
    const from = (p: number) =>
      fetchFrom(p) ?? (committed[p] !== undefined && committed[p] >= 0n ? committed[p] : undefined);
    const behind = partitionsBehind(held, ends, from);
    if (behind.length > 0) return `partitions ${behind.join(',')} are behind`;
    if (held.length > 0) {
      this.unserved.clear();
      return undefined;
    }
    const lagging = new Map<number, bigint>();
    ends.forEach((end, p) => {
      const at = committed[p];
      if (at !== undefined && at >= 0n && end > at) lagging.set(p, at);
    });
    const frozen = [...lagging].filter(([p, at]) => this.unserved.get(p) === at).map(([p]) => p);
    this.unserved = lagging;
    if (frozen.length === 0) return undefined;
    this.unserved.clear();
    return `it holds no partition while the group's partitions ${frozen.join(',')} lag and have not moved since the last check`;
  }
}
