/**
 * A token bucket: `ratePerSec` tokens a second, up to `burst`. Pure (time is passed in), so
 * the limits are unit-testable without a server.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSec);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Counts refusals in a sliding window; persistent abuse closes the connection (4429). */
export class AbuseMeter {
  private readonly refusals: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs = 10_000,
  ) {}

  /** Records a refusal; true when the limit within the window is reached. */
  record(now: number): boolean {
    this.refusals.push(now);
    while (this.refusals.length > 0 && this.refusals[0] <= now - this.windowMs) this.refusals.shift();
    return this.refusals.length >= this.limit;
  }
}

/** The Redis key of a user's message count in one second (a fixed window shared by all gateways). */
export const userRateKey = (userId: string, now: number) => `rl:${userId}:${Math.floor(now / 1000)}`;
