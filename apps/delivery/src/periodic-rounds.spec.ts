import type { Logger } from '@nestjs/common';
import { PeriodicRounds } from './periodic-rounds';

/** A timer-driven loop of rounds: one at a time, failures logged, stop waits. Timers are faked. */
describe('PeriodicRounds', () => {
  const INTERVAL = 100;

  function gate() {
    let open!: () => void;
    let fail!: (e: unknown) => void;
    const promise = new Promise<void>((resolve, reject) => {
      open = resolve;
      fail = reject;
    });
    return { promise, open, fail };
  }

  function setup(round: () => Promise<unknown>) {
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m) } as unknown as Logger;
    let calls = 0;
    const rounds = new PeriodicRounds(
      'test-rounds',
      INTERVAL,
      () => {
        calls++;
        return round();
      },
      logger,
    );
    return { rounds, warnings, calls: () => calls };
  }

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs a round once per interval, the first after one interval', async () => {
    const { rounds, calls } = setup(async () => undefined);
    rounds.start();
    await jest.advanceTimersByTimeAsync(INTERVAL - 1);
    expect(calls()).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(calls()).toBe(1);
    await jest.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(calls()).toBe(4);
    await rounds.stop();
  });

  it('skips the ticks that come while a round is still running, and resumes at the next tick after it', async () => {
    let current = gate();
    const { rounds, calls } = setup(() => current.promise);
    rounds.start();
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(calls()).toBe(1);
    await jest.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(calls()).toBe(1);

    current.open();
    current = gate();
    await jest.advanceTimersByTimeAsync(0);
    // Skipped ticks are not made up for: nothing runs until the next tick.
    expect(calls()).toBe(1);
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(calls()).toBe(2);
    current.open();
    await rounds.stop();
  });

  it('logs a failed round with its cause and keeps running rounds', async () => {
    let fail = true;
    const { rounds, calls, warnings } = setup(async () => {
      if (fail) throw new Error('Redis away');
    });
    rounds.start();
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(warnings).toEqual(['test-rounds round failed: Error: Redis away']);
    fail = false;
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(calls()).toBe(2);
    expect(warnings).toHaveLength(1);
    await rounds.stop();
  });

  it('stop waits for the round in progress and no round starts afterwards', async () => {
    const slow = gate();
    const { rounds, calls } = setup(() => slow.promise);
    rounds.start();
    await jest.advanceTimersByTimeAsync(INTERVAL);
    expect(calls()).toBe(1);

    let stopped = false;
    const stopping = rounds.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(stopped).toBe(false);

    slow.open();
    await stopping;
    expect(stopped).toBe(true);
    await jest.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(calls()).toBe(1);
  });

  it('stop resolves even when the round in progress fails', async () => {
    const slow = gate();
    const { rounds, warnings } = setup(() => slow.promise);
    rounds.start();
    await jest.advanceTimersByTimeAsync(INTERVAL);
    const stopping = rounds.stop();
    slow.fail(new Error('PostgreSQL away'));
    await expect(stopping).resolves.toBeUndefined();
    expect(warnings).toEqual(['test-rounds round failed: Error: PostgreSQL away']);
  });
});
