/** Pure timing math of the client; kept apart so that it is tested without any socket. */

/** Resend delays of an unacked message: 1 s, 3 s, 5 s, then doubling, at most 32 s (docs/protocol.md §7). */
export const RESEND_LADDER_MS: readonly number[] = [1_000, 3_000, 5_000];
export const RESEND_MAX_MS = 32_000;

/**
 * How long to wait after the `sends`-th transmission of a message before sending it again:
 * 1 → 1 s, 2 → 3 s, 3 → 5 s, 4 → 10 s, 5 → 20 s, 6 and later → 32 s.
 */
export function resendDelay(sends: number): number {
  const n = Math.max(1, Math.floor(sends));
  if (n <= RESEND_LADDER_MS.length) return RESEND_LADDER_MS[n - 1];
  const last = RESEND_LADDER_MS[RESEND_LADDER_MS.length - 1];
  const doublings = Math.min(n - RESEND_LADDER_MS.length, 32);
  return Math.min(last * 2 ** doublings, RESEND_MAX_MS);
}

export interface ReconnectBackoff {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_RECONNECT: ReconnectBackoff = { baseMs: 500, capMs: 30_000 };

/** The upper bound of the `attempt`-th reconnect delay (0-based): base × 2^attempt, at most cap. */
export function reconnectCeiling(attempt: number, backoff: ReconnectBackoff = DEFAULT_RECONNECT): number {
  const n = Math.min(Math.max(0, Math.floor(attempt)), 32);
  return Math.min(backoff.capMs, backoff.baseMs * 2 ** n);
}

/**
 * "Full jitter": a uniformly random delay in [0, ceiling). Spreading reconnects over the
 * whole window keeps a gateway restart from being hit by every client at the same instant.
 * `random` returns a number in [0, 1), like Math.random.
 */
export function reconnectDelay(
  attempt: number,
  backoff: ReconnectBackoff = DEFAULT_RECONNECT,
  random: () => number = Math.random,
): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * reconnectCeiling(attempt, backoff));
}
