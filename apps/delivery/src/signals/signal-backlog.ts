import { Injectable } from '@nestjs/common';

/** Behind by this many signals for longer than BEHIND_MS, re-push waits: the acks it would act on are queued. */
export const BEHIND_SIGNALS = 200;
export const BEHIND_MS = 1000;
/** A reading this old says nothing any more (no batch came since: nothing was left to consume). */
const STALE_MS = 2000;

/**
 * Whether this instance's signal consumer has been behind (at least BEHIND_SIGNALS messages
 * left in a partition after each batch) for more than a second, by this process's own clock.
 * A few messages left after a batch is normal under steady traffic and says nothing. Under load deliver_acks
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
      behindSince: lag >= BEHIND_SIGNALS ? (previous?.behindSince ?? now) : undefined,
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
