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

/** Per kind, the largest of its faults' gaps. */
export function largestByKind<K extends string>(
  faults: readonly { kind: K; gapMs?: number }[],
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const f of faults) if (f.gapMs !== undefined) out[f.kind] = Math.max(out[f.kind] ?? 0, f.gapMs);
  return out;
}
