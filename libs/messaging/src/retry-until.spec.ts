import { retryUntil } from './retry-until';

describe('retryUntil', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('tries again after a failure, recovering in between, until the attempt passes', async () => {
    const recovered: number[] = [];
    let calls = 0;
    const result = retryUntil(
      Date.now() + 60_000,
      async () => {
        if (++calls < 3) throw new Error('broker restarting');
        return 'joined';
      },
      (_, attempt) => void recovered.push(attempt),
    );
    await jest.advanceTimersByTimeAsync(500 + 1000);
    await expect(result).resolves.toBe('joined');
    expect(recovered).toEqual([1, 2]);
  });

  it('gives up with the last error once the deadline has passed', async () => {
    const result = retryUntil(
      Date.now() + 1000,
      async () => {
        throw new Error('no leader');
      },
      () => undefined,
    );
    const settled = expect(result).rejects.toThrow('no leader');
    await jest.advanceTimersByTimeAsync(5000);
    await settled;
  });
});
