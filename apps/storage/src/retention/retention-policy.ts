/**
 * What the retention sweep decides, without reading or deleting anything (docs/protocol.md
 * §5.7): which retention applies to a conversation, where its cutoff lies, whether it has
 * anything to delete, and how often to sweep.
 */

export const DAY_MS = 86_400_000;
const MIN_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 3_600_000;
/** A first sweep soon after start, so that replicas restarted more often than the interval still sweep. */
const MAX_FIRST_DELAY_MS = 10_000;

/** A conversation as the sweep lists it. */
export interface RetentionCandidate {
  conversationId: string;
  /** The conversation's own retention in days; null follows the deployment's. */
  retentionDays: number | null;
  /** Time (ms) of its lowest-seq message; null when it has none. */
  oldestSentAt: number | null;
}

/** The conversation's own retention, else the deployment's; undefined keeps everything. */
export function retentionDaysFor(own: number | null, deploymentDays: number | undefined): number | undefined {
  return own ?? deploymentDays;
}

/** Messages sent before this time (ms) are past a retention of `days`. */
export function cutoffFor(now: number, days: number): number {
  return now - days * DAY_MS;
}

/**
 * The cutoff to sweep the conversation with, or null when it has nothing to delete: no
 * retention applies, it is empty, or its oldest message is still within its retention.
 */
export function sweepCutoff(
  candidate: RetentionCandidate,
  deploymentDays: number | undefined,
  now: number,
): number | null {
  const days = retentionDaysFor(candidate.retentionDays, deploymentDays);
  if (days === undefined || candidate.oldestSentAt === null) return null;
  const cutoff = cutoffFor(now, days);
  return candidate.oldestSentAt < cutoff ? cutoff : null;
}

/**
 * Whether a batch reached the end of the conversation's expired messages: it deleted fewer
 * than it may. A batch stops at the first message still within retention; seqs follow send
 * time, so what lies beyond it is kept too (one sent earlier after a sequencer failover, by
 * clock skew, waits for a later sweep).
 */
export function batchEndedHead(deleted: number, batchSize: number): boolean {
  return deleted < batchSize;
}

/**
 * Time between sweeps: RETENTION_SWEEP_INTERVAL_MS when set, else a tenth of the deployment's
 * retention within 1 s … 1 h, so that no message outlives its retention by more than about a
 * tenth of it. A conversation's own retention is at least a day, a tenth of which is beyond
 * the hour: only the deployment's can make the interval shorter.
 */
export function sweepIntervalMs(
  deploymentDays: number | undefined,
  configuredMs: number | undefined,
): number {
  if (configuredMs !== undefined) return configuredMs;
  if (deploymentDays === undefined) return MAX_INTERVAL_MS;
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, Math.round((deploymentDays * DAY_MS) / 10)));
}

/** The first sweep after start: no later than 10 s, so frequent restarts never starve it. */
export function firstSweepDelayMs(intervalMs: number): number {
  return Math.min(intervalMs, MAX_FIRST_DELAY_MS);
}
