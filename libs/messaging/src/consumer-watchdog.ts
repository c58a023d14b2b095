/**
 * Notices a consumer that stopped consuming: a healthy kafkajs consumer fetches every
 * maxWaitTime (50 ms) even when there is nothing to read, so a long silence with no batch in
 * progress means its fetch loop is stuck (or kafkajs gave up without saying so), and its
 * partitions are unserved while the service looks healthy. Pure: time is passed in.
 */
export class ConsumerWatchdog {
  private lastActivityAt: number;

  /** `limitMs` must exceed the longest rebalance (its timeout), during which nothing is fetched. */
  constructor(
    private readonly limitMs: number,
    now: number,
  ) {
    this.lastActivityAt = now;
  }

  /** A fetch came back, the group was joined, or the consumer was (re)started. */
  activity(now: number): void {
    this.lastActivityAt = Math.max(this.lastActivityAt, now);
  }

  /** True when the consumer should be replaced: silent for longer than the limit while no batch is being handled. */
  stalled(now: number, batchesInProgress: number): boolean {
    if (batchesInProgress > 0) return false;
    return now - this.lastActivityAt > this.limitMs;
  }
}
