import { Injectable } from '@nestjs/common';

/** Behind for longer than this, re-push and catch-up wait: the acks they would act on are queued. */
export const BEHIND_MS = 1000;
/** A reading this old says nothing any more (no batch came since: nothing was left to consume). */
const STALE_MS = 2000;

/**
 * Whether this instance's signal consumer has been behind (messages left in a partition after
 * each batch) for more than a second, by this process's own clock. Under load deliver_acks
 * wait in Kafka, and re-pushing for them only adds to the load that delays them: more than
 * half of all pushes were repeats in a 1,000-member group. Pure: time is passed in.
 */
@Injectable()
export class SignalBacklog {
  private readonly partitions = new Map<number, { behindSince?: number; observedAt: number }>();

  /** A batch of `partition` was handled, and `lag` messages are still waiting after it. */
  observe(partition: number, lag: number, now: number): void {
    const previous = this.partitions.get(partition);
    this.partitions.set(partition, {
      behindSince: lag > 0 ? (previous?.behindSince ?? now) : undefined,
      observedAt: now,
    });
  }

  isBehind(now: number): boolean {
    for (const p of this.partitions.values())
      if (p.behindSince !== undefined && now - p.observedAt < STALE_MS && now - p.behindSince > BEHIND_MS)
        return true;
    return false;
  }
}
