interface UserWindow {
  /** Messages this gateway let through in the window. */
  local: number;
  /** Of those, how many Redis has been told. */
  flushed: number;
  /** Messages the other gateways let through, as Redis last said. */
  others: number;
}

/**
 * The per-user message limit across gateways, decided in memory: a fixed one-second window
 * per user, counted here and added to Redis in the background (`drain`, then `reconcile` with
 * the window's total Redis answers). On one gateway the limit is exact; a user sending through
 * several at once can pass it by what the others let through since their last flush (100 ms
 * of that user's rate each), which buys a send without a Redis round trip. Pure: time is passed in.
 */
export class UserRateLedger {
  private window = -1;
  private users = new Map<string, UserWindow>();

  constructor(private readonly limitPerSecond: number) {}

  /** Takes one message of `userId` if the window has room for it. */
  take(userId: string, now: number): boolean {
    this.roll(now);
    let user = this.users.get(userId);
    if (!user) this.users.set(userId, (user = { local: 0, flushed: 0, others: 0 }));
    if (user.local + user.others >= this.limitPerSecond) return false;
    user.local++;
    return true;
  }

  /** The counts Redis has not been told yet, per user, and the window they belong to. */
  drain(now: number): { window: number; counts: { userId: string; count: number }[] } {
    this.roll(now);
    const counts: { userId: string; count: number }[] = [];
    for (const [userId, user] of this.users) {
      const count = user.local - user.flushed;
      if (count === 0) continue;
      user.flushed = user.local;
      counts.push({ userId, count });
    }
    return { window: this.window, counts };
  }

  /** Redis's total for the user's window right after our increment: the rest is the others'. */
  reconcile(window: number, userId: string, total: number): void {
    const user = this.users.get(userId);
    if (window !== this.window || !user) return;
    user.others = Math.max(user.others, total - user.flushed);
  }

  private roll(now: number): void {
    const window = Math.floor(now / 1000);
    if (window === this.window) return;
    this.window = window;
    this.users = new Map();
  }
}
