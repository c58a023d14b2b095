/** Members of one conversation as this process last loaded them. */
interface MemoEntry {
  readonly list: readonly string[];
  readonly set: ReadonlySet<string>;
  readonly loadedAt: number;
}

export interface MembershipMemoLimits {
  /** Conversations kept; the oldest loaded is dropped first. */
  maxConversations: number;
  /** A set older than this is loaded again, in case an invalidation was ever missed. */
  ttlMs: number;
}

/**
 * The in-process copy of conversations' members that answers sends and acks without a Redis
 * round trip. It is only trusted while this process listens for invalidations: `distrust()`
 * (the listener's connection dropped) empties it, and a load that was under way when any
 * invalidation arrived is not kept, because it may have read the members from before the change.
 */
export class MembershipMemo {
  private readonly entries = new Map<string, MemoEntry>();
  /** Bumped by every invalidation; a load stores its result only if none came in meanwhile. */
  private generation = 0;
  private trusted = false;

  constructor(private readonly limits: MembershipMemoLimits) {}

  get isTrusted(): boolean {
    return this.trusted;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The members, or undefined when they must be loaded. */
  get(conversationId: string, now: number): MemoEntry | undefined {
    const entry = this.entries.get(conversationId);
    if (!entry) return undefined;
    if (now - entry.loadedAt >= this.limits.ttlMs) {
      this.entries.delete(conversationId);
      return undefined;
    }
    return entry;
  }

  /** Call before loading; hand the result to `store`. */
  beginLoad(): number {
    return this.generation;
  }

  store(conversationId: string, members: readonly string[], since: number, now: number): void {
    if (!this.trusted || since !== this.generation) return;
    this.entries.delete(conversationId);
    this.entries.set(conversationId, { list: members, set: new Set(members), loadedAt: now });
    if (this.entries.size > this.limits.maxConversations) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  invalidate(conversationId: string): void {
    this.generation++;
    this.entries.delete(conversationId);
  }

  /** The listener is subscribed: from now on every change reaches this process. */
  trust(): void {
    this.generation++;
    this.trusted = true;
  }

  /** The listener lost its connection: changes may be missed, so nothing here is believed. */
  distrust(): void {
    this.generation++;
    this.trusted = false;
    this.entries.clear();
  }
}
