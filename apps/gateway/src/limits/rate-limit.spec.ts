import { AbuseMeter, TokenBucket, userRateKey } from './rate-limit';

describe('TokenBucket', () => {
  it('allows a burst, then the rate', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true); // one token after 100 ms at 10/s
  });

  it('never stores more than the burst', () => {
    const bucket = new TokenBucket(10, 2, 0);
    const taken = [0, 0, 0].map(() => bucket.take(60_000));
    expect(taken).toEqual([true, true, false]);
  });
});

describe('AbuseMeter', () => {
  it('trips at the limit within the window and forgets old refusals', () => {
    const meter = new AbuseMeter(3, 1000);
    expect([meter.record(0), meter.record(100), meter.record(200)]).toEqual([false, false, true]);
    const later = new AbuseMeter(3, 1000);
    expect([later.record(0), later.record(100), later.record(1500)]).toEqual([false, false, false]);
  });
});

describe('userRateKey', () => {
  it('changes every second', () => {
    expect(userRateKey('u', 1999)).toBe('rl:u:1');
    expect(userRateKey('u', 2000)).toBe('rl:u:2');
  });
});
