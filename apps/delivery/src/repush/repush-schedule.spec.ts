import { coverSeq, repushDelay } from './repush-schedule';

describe('repushDelay', () => {
  it('doubles from the initial delay', () => {
    expect([0, 1, 2, 3].map((a) => repushDelay(a, 1000, 60000))).toEqual([1000, 2000, 4000, 8000]);
  });
  it('is capped', () => {
    expect(repushDelay(10, 1000, 30000)).toBe(30000);
    expect(repushDelay(1000, 1000, 30000)).toBe(30000);
  });
  it('treats a negative attempt as the first', () => {
    expect(repushDelay(-3, 500, 30000)).toBe(500);
  });
});

describe('coverSeq', () => {
  // Regression (chaos suite): seqs of a conversation arriving out of order in one fan-out batch
  // (e.g. 205 then 150 after a sequencer failover) made a pending range with fromSeq > seq; the
  // re-push worker then asked PostgreSQL for a negative LIMIT and every re-push round failed.
  it('keeps the min and max of the pushed seqs, whatever their order', () => {
    let range = coverSeq(undefined, 205);
    range = coverSeq(range, 150);
    range = coverSeq(range, 180);
    expect(range).toEqual({ fromSeq: 150, seq: 205 });
    expect(range.fromSeq).toBeLessThanOrEqual(range.seq);
  });
  it('starts a range at the first seq', () => {
    expect(coverSeq(undefined, 7)).toEqual({ fromSeq: 7, seq: 7 });
  });
});
