import { reconnectCeiling, reconnectDelay, resendDelay, RESEND_MAX_MS } from './backoff';

describe('resendDelay (the ladder)', () => {
  it('waits 1 s, 3 s, 5 s after the first three sends', () => {
    expect([1, 2, 3].map(resendDelay)).toEqual([1_000, 3_000, 5_000]);
  });

  it('then doubles, capped at 32 s', () => {
    expect([4, 5, 6, 7, 8, 50, 1e9].map(resendDelay)).toEqual([
      10_000, 20_000, 32_000, 32_000, 32_000, 32_000, 32_000,
    ]);
    for (let n = 1; n < 200; n++) expect(resendDelay(n)).toBeLessThanOrEqual(RESEND_MAX_MS);
  });

  it('never decreases', () => {
    for (let n = 1; n < 100; n++) expect(resendDelay(n + 1)).toBeGreaterThanOrEqual(resendDelay(n));
  });

  it('treats nonsense counts as the first send', () => {
    expect(resendDelay(0)).toBe(1_000);
    expect(resendDelay(-3)).toBe(1_000);
  });
});

describe('reconnect backoff with full jitter', () => {
  const backoff = { baseMs: 500, capMs: 30_000 };

  it('has a ceiling of base × 2^attempt, capped', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 100].map((a) => reconnectCeiling(a, backoff))).toEqual([
      500, 1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('draws uniformly from [0, ceiling]', () => {
    expect(reconnectDelay(3, backoff, () => 0)).toBe(0);
    expect(reconnectDelay(3, backoff, () => 0.5)).toBe(2_000);
    expect(reconnectDelay(3, backoff, () => 0.999999)).toBe(3_999);
  });

  it('stays within its bounds for any random value, and is not constant', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let attempt = 0; attempt < 12; attempt++) {
      const delays = Array.from({ length: 200 }, () => reconnectDelay(attempt, backoff, random));
      for (const d of delays) {
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(reconnectCeiling(attempt, backoff));
        expect(Number.isInteger(d)).toBe(true);
      }
      expect(new Set(delays).size).toBeGreaterThan(10);
    }
  });

  it('clamps a broken random source into the window', () => {
    expect(reconnectDelay(0, backoff, () => 7)).toBe(500);
    expect(reconnectDelay(0, backoff, () => -1)).toBe(0);
  });
});
