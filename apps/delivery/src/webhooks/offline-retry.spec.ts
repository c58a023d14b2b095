import { offlineDeliveryId, offlineRetryDelay } from './offline-retry';

describe('offlineRetryDelay', () => {
  it('doubles from the initial wait up to the cap, within the upper half of each step', () => {
    const low = (attempt: number) => offlineRetryDelay(attempt, 500, 10_000, () => 0);
    const high = (attempt: number) => offlineRetryDelay(attempt, 500, 10_000, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7].map(high)).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect([1, 2, 3].map(low)).toEqual([250, 500, 1000]);
  });

  it('stays at the cap however long the receiver is down', () => {
    expect(offlineRetryDelay(10_000, 500, 10_000, () => 1)).toBe(10_000);
  });
});

describe('offlineDeliveryId', () => {
  it('is the same for every delivery of one message and differs between messages', () => {
    expect(offlineDeliveryId('m1')).toBe(offlineDeliveryId('m1'));
    expect(offlineDeliveryId('m1')).not.toBe(offlineDeliveryId('m2'));
  });
});
