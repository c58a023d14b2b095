/**
 * When to push an unacknowledged message again: initial, 2×, 4× … capped at max.
 * Re-pushing stops when the device acknowledges or goes away (then `sync` covers it).
 */
export function repushDelay(attempt: number, initialMs: number, maxMs: number): number {
  const exponent = Math.min(Math.max(attempt, 0), 30);
  return Math.min(initialMs * 2 ** exponent, maxMs);
}

/** One pending push: a device should confirm it has every message up to `seq`. */
export interface PendingPush {
  userId: string;
  deviceId: string;
  connId: string;
  conversationId: string;
  /** The pushed range of seqs (fromSeq..seq) that this entry waits for. */
  fromSeq: number;
  seq: number;
  attempt: number;
}
