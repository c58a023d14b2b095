import type { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import type { SignalBacklog } from '../signals/signal-backlog';
import { PendingPushes } from './pending-pushes';
import type { RepushRound, RepushRoundUseCase } from './repush-round.usecase';
import type { PendingPush } from './repush-schedule';
import { RepushWorker } from './repush.worker';

/**
 * The re-push loop around one round: when it waits for the signal backlog, what it takes from
 * memory, and what it puts back (after the round, or after a failed round). The round itself,
 * the backlog and the config are faked; the in-memory PendingPushes is the real one.
 */
describe('RepushWorker', () => {
  const START = 1_000_000;
  const INITIAL_MS = 2_000;
  const deferredRounds = () =>
    metrics.counter('im_delivery_repush_rounds_deferred_total', '').values.get('') ?? 0;

  const push = (deviceId: string, seq = 5): PendingPush => ({
    userId: 'bob',
    deviceId,
    connId: `conn-${deviceId}`,
    conversationId: 'c1',
    fromSeq: seq,
    seq,
    attempt: 0,
  });

  function setup(
    execute: (due: PendingPush[], now: number) => Promise<RepushRound> = async () => ({
      pushed: 0,
      again: [],
    }),
  ) {
    const pending = new PendingPushes();
    const backlog = { behind: false };
    const rounds: { due: PendingPush[]; now: number }[] = [];
    const round = {
      execute: async (due: PendingPush[], now: number) => {
        rounds.push({ due, now });
        return execute(due, now);
      },
    } as unknown as RepushRoundUseCase;
    const config = { REPUSH_INITIAL_MS: INITIAL_MS } as AppConfig;
    const signals = { isBehind: () => backlog.behind } as unknown as SignalBacklog;
    // Constructed at START: its last round counts from then.
    const worker = new RepushWorker(pending, round, config, signals);
    return { worker, pending, backlog, rounds };
  }

  /** The device ids of what falls due by `at` (and takes them out). */
  const dueBy = (pending: PendingPushes, at: number) => pending.takeDue(at, 10_000).map((p) => p.deviceId);

  beforeEach(() => jest.useFakeTimers({ now: START }));
  afterEach(() => jest.useRealTimers());

  it('waits while the signals are behind, leaving the due pushes in memory', async () => {
    const { worker, pending, backlog, rounds } = setup();
    pending.add(push('phone'), START);
    backlog.behind = true;
    const before = deferredRounds();

    expect(await worker.tick(START + 4_999)).toBe(0);
    expect(rounds).toEqual([]);
    expect(pending.size).toBe(1);
    expect(deferredRounds()).toBe(before + 1);
  });

  it('runs a round anyway once five seconds passed since the last one, then waits again', async () => {
    const { worker, pending, backlog, rounds } = setup();
    backlog.behind = true;
    pending.add(push('phone'), START);
    await worker.tick(START + 5_000);
    expect(rounds.map((r) => r.now)).toEqual([START + 5_000]);

    pending.add(push('tablet'), START);
    expect(await worker.tick(START + 9_999)).toBe(0);
    expect(rounds).toHaveLength(1);
    await worker.tick(START + 10_000);
    expect(rounds.map((r) => r.due.map((p) => p.deviceId))).toEqual([['phone'], ['tablet']]);
  });

  it('hands the due pushes to the round, keeps what it asks to keep at its due time, and returns what it pushed', async () => {
    const now = START + 100;
    const { worker, pending, rounds } = setup(async (due) => ({
      pushed: 7,
      again: [{ push: { ...due.find((p) => p.deviceId === 'phone')!, attempt: 1 }, dueAt: now + 4_000 }],
    }));
    pending.add(push('phone'), now);
    pending.add(push('tablet'), now - 50);
    pending.add(push('laptop'), now + 1);

    expect(await worker.tick(now)).toBe(7);
    expect(rounds).toHaveLength(1);
    expect(rounds[0].now).toBe(now);
    expect(rounds[0].due.map((p) => p.deviceId).sort()).toEqual(['phone', 'tablet']);
    // tablet was dropped by the round; laptop was never due; phone is back for its next attempt.
    expect(dueBy(pending, now + 3_999)).toEqual(['laptop']);
    expect(pending.takeDue(now + 4_000, 10)).toEqual([{ ...push('phone'), attempt: 1 }]);
  });

  it('takes at most 500 pushes in one round', async () => {
    const { worker, pending, rounds } = setup();
    for (let i = 0; i < 501; i++) pending.add(push(`d${i}`), START);
    await worker.tick(START);
    expect(rounds[0].due).toHaveLength(500);
    expect(pending.size).toBe(1);
  });

  it('does not call the round when nothing is due', async () => {
    const { worker, pending, rounds } = setup();
    pending.add(push('phone'), START + 1);
    expect(await worker.tick(START)).toBe(0);
    expect(rounds).toEqual([]);
    expect(pending.size).toBe(1);
  });

  it('puts every taken push back, due after the initial delay, when the round fails', async () => {
    const { worker, pending } = setup(async () => {
      throw new Error('Redis away');
    });
    pending.add(push('phone'), START);
    pending.add({ ...push('tablet'), attempt: 3 }, START);

    await expect(worker.tick(START + 10)).rejects.toThrow('Redis away');
    expect(dueBy(pending, START + 10 + INITIAL_MS - 1)).toEqual([]);
    expect(pending.takeDue(START + 10 + INITIAL_MS, 10)).toEqual([
      push('phone'),
      { ...push('tablet'), attempt: 3 },
    ]);
  });

  it('runs rounds on its timer from bootstrap and none after shutdown', async () => {
    const { worker, pending, rounds } = setup(async () => ({ pushed: 1, again: [] }));
    pending.add(push('phone'), START);
    worker.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(199);
    expect(rounds).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(rounds.map((r) => r.now)).toEqual([START + 200]);

    await worker.beforeApplicationShutdown();
    pending.add(push('tablet'), START);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(rounds).toHaveLength(1);
    expect(pending.size).toBe(1);
  });
});
