import { repushDelay } from './repush-schedule';

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
