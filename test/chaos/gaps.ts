/**
 * Gaps in a stream of events (acks or deliveries) around a fault: what a person waiting for
 * their message saw while the fault lasted. Pure, so the harness and the benchmark share it.
 */

/** Index of the first time greater than `t` (times ascending). */
function firstAfter(times: readonly number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] > t) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * The longest stretch without an event that overlaps the window [from, to], in ms. A stretch
 * starts at the last event before it (or at `from` when there was none) and ends at the next
 * event (or at `observedUntil` when none came), so a stall that began during the fault counts
 * whole even if it lasted past the fault's end. `times` must be ascending.
 */
export function longestGap(
  times: readonly number[],
  from: number,
  to: number,
  observedUntil: number,
): number {
  let i = firstAfter(times, from);
  let previous = i > 0 ? times[i - 1] : from;
  let longest = 0;
  for (;;) {
    const next = i < times.length ? times[i] : observedUntil;
    longest = Math.max(longest, next - previous);
    if (i >= times.length || next >= to) return longest;
    previous = next;
    i++;
  }
}

/**
 * How long after `end` the first event came (0 when events came in the last second before it):
 * after a broker restart, the time from the broker answering again to the first ack.
 */
export function firstAfterEnd(times: readonly number[], end: number, observedUntil: number): number {
  const i = firstAfter(times, end - 1000);
  if (i < times.length && times[i] <= end) return 0;
  return (i < times.length ? times[i] : observedUntil) - end;
}

/**
 * The longest a send waited for its ack among the sends waiting at some point of [from, to]:
 * a stall of some partitions shows here even while other conversations' acks keep flowing.
 * A send never acked waits until `observedUntil`.
 */
export function longestWait(
  sends: readonly { queuedAt?: number; ackedAt?: number }[],
  from: number,
  to: number,
  observedUntil: number,
): number {
  let longest = 0;
  for (const s of sends) {
    if (s.queuedAt === undefined) continue;
    const end = s.ackedAt ?? observedUntil;
    if (s.queuedAt <= to && end >= from) longest = Math.max(longest, end - s.queuedAt);
  }
  return longest;
}

/** What a fault cost, as the chaos harness measures it around the fault. */
export interface FaultGaps {
  /** The longest stretch without any ack reaching any device that overlaps the fault. */
  ackGapMs?: number;
  /** The same for deliveries of other senders' messages. */
  deliveryGapMs?: number;
  /** The longest any one send waited for its ack among those waiting during the fault. */
  ackWaitMs?: number;
}

/** Per fault kind, the largest ack gap, delivery gap and ack wait of its measured faults. */
export function gapsByKind<K extends string>(
  faults: readonly ({ kind: K } & FaultGaps)[],
): Partial<Record<K, { ackMs: number; deliveryMs: number; ackWaitMs: number }>> {
  const out: Partial<Record<K, { ackMs: number; deliveryMs: number; ackWaitMs: number }>> = {};
  for (const f of faults) {
    if (f.ackGapMs === undefined) continue;
    const g = (out[f.kind] ??= { ackMs: 0, deliveryMs: 0, ackWaitMs: 0 });
    g.ackMs = Math.max(g.ackMs, f.ackGapMs);
    g.deliveryMs = Math.max(g.deliveryMs, f.deliveryGapMs ?? 0);
    g.ackWaitMs = Math.max(g.ackWaitMs, f.ackWaitMs ?? 0);
  }
  return out;
}
