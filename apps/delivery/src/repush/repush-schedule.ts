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

/**
 * Widens a device's pending range to cover one more pushed seq. Seqs of one conversation can
 * reach delivery out of order within a batch (after a sequencer failover the new owner's
 * block may interleave with the old owner's, and replays carry their original seq), so the
 * range is the min and max of what was pushed, never "first seen .. last seen".
 */
export function coverSeq(
  range: { fromSeq: number; seq: number } | undefined,
  seq: number,
): { fromSeq: number; seq: number } {
  if (!range) return { fromSeq: seq, seq };
  return { fromSeq: Math.min(range.fromSeq, seq), seq: Math.max(range.seq, seq) };
}
