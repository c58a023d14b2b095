import {
  batchEndedHead,
  cutoffFor,
  DAY_MS,
  firstSweepDelayMs,
  retentionDaysFor,
  sweepCutoff,
  sweepIntervalMs,
} from './retention-policy';

const now = Date.UTC(2026, 11, 10, 12, 0, 0);

describe('retention policy', () => {
  it('applies the conversation’s own retention, else the deployment’s, else none', () => {
    expect(retentionDaysFor(7, 30)).toBe(7);
    expect(retentionDaysFor(365, 30)).toBe(365);
    expect(retentionDaysFor(null, 30)).toBe(30);
    expect(retentionDaysFor(null, undefined)).toBeUndefined();
    expect(retentionDaysFor(3, undefined)).toBe(3);
  });

  it('puts the cutoff that many days (fractions too) before now', () => {
    expect(cutoffFor(now, 30)).toBe(now - 30 * DAY_MS);
    expect(cutoffFor(now, 0.0001)).toBe(now - 8640);
  });

  it('sweeps a conversation only when its oldest message is past its cutoff', () => {
    const old = { conversationId: 'c', retentionDays: null, oldestSentAt: now - 31 * DAY_MS };
    expect(sweepCutoff(old, 30, now)).toBe(now - 30 * DAY_MS);
    expect(sweepCutoff(old, undefined, now)).toBeNull();
    expect(sweepCutoff({ ...old, retentionDays: 60 }, 30, now)).toBeNull();
    expect(sweepCutoff({ ...old, retentionDays: 1 }, undefined, now)).toBe(now - DAY_MS);
    expect(sweepCutoff({ ...old, oldestSentAt: null }, 30, now)).toBeNull();
    // Exactly at the cutoff is still within retention.
    expect(sweepCutoff({ ...old, oldestSentAt: now - 30 * DAY_MS }, 30, now)).toBeNull();
  });

  it('goes on with a conversation only while whole batches were expired', () => {
    expect(batchEndedHead(1000, 1000)).toBe(false);
    expect(batchEndedHead(999, 1000)).toBe(true);
    expect(batchEndedHead(0, 1000)).toBe(true);
  });

  it('sweeps every tenth of the deployment’s retention, within 1 s and 1 h, unless told otherwise', () => {
    expect(sweepIntervalMs(undefined, undefined)).toBe(3_600_000);
    expect(sweepIntervalMs(30, undefined)).toBe(3_600_000);
    expect(sweepIntervalMs(0.1, undefined)).toBe(864_000);
    expect(sweepIntervalMs(0.001, undefined)).toBe(8_640);
    expect(sweepIntervalMs(0.0001, undefined)).toBe(1_000);
    expect(sweepIntervalMs(0.0000001, undefined)).toBe(1_000);
    expect(sweepIntervalMs(30, 5_000)).toBe(5_000);
    expect(sweepIntervalMs(undefined, 120_000)).toBe(120_000);
  });

  it('runs the first sweep within 10 s of start', () => {
    expect(firstSweepDelayMs(3_600_000)).toBe(10_000);
    expect(firstSweepDelayMs(1_000)).toBe(1_000);
  });
});
