import { UserRateLedger } from './user-rate-ledger';

describe('UserRateLedger', () => {
  it('lets a user through up to the limit within one second, then again in the next', () => {
    const ledger = new UserRateLedger(3);
    expect([1, 2, 3, 4].map(() => ledger.take('u', 1000))).toEqual([true, true, true, false]);
    expect(ledger.take('v', 1500)).toBe(true);
    expect(ledger.take('u', 2000)).toBe(true);
  });

  it('hands each count to Redis once and counts what other gateways let through', () => {
    const ledger = new UserRateLedger(5);
    ledger.take('u', 1000);
    ledger.take('u', 1000);
    const first = ledger.drain(1010);
    expect(first).toEqual({ window: 1, counts: [{ userId: 'u', count: 2 }] });
    expect(ledger.drain(1020).counts).toEqual([]);
    // Redis says 4 after our 2: the other gateways let 2 through.
    ledger.reconcile(first.window, 'u', 4);
    expect(ledger.take('u', 1100)).toBe(true);
    expect(ledger.take('u', 1100)).toBe(false);
  });

  it('ignores an answer about a window that is over', () => {
    const ledger = new UserRateLedger(2);
    ledger.take('u', 1000);
    const drained = ledger.drain(1000);
    ledger.take('u', 2000);
    ledger.reconcile(drained.window, 'u', 100);
    expect(ledger.take('u', 2000)).toBe(true);
  });
});
