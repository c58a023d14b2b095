import {
  ActiveMembership,
  CatchUpState,
  CatchUpTask,
  cursorKey,
  OnlineDevice,
  planCatchUp,
  readRange,
  recordCoverage,
  takeFromPage,
} from './catch-up-plan';

const device = (userId: string, deviceId = 'd1', connId = `${userId}-conn`): OnlineDevice => ({
  userId,
  deviceId,
  connId,
  connectedAt: 0,
});

function plan(
  memberships: ActiveMembership[],
  devices: OnlineDevice[],
  cursors: Record<string, number> = {},
  state = new Map<string, CatchUpState>(),
  now = 10_000,
  limit = 100,
) {
  const devicesOf = new Map<string, OnlineDevice[]>();
  for (const d of devices) devicesOf.set(d.userId, [...(devicesOf.get(d.userId) ?? []), d]);
  return planCatchUp({
    memberships,
    devicesOf,
    cursors: new Map(Object.entries(cursors)),
    state,
    now,
    initialMs: 1000,
    maxMs: 8000,
    limit,
  });
}

describe('planCatchUp', () => {
  it('asks for what an online device lacks between its stored cursor and the last seq', () => {
    const { tasks } = plan([{ conversationId: 'c', userId: 'bob', lastSeq: 9 }], [device('bob')], {
      [cursorKey('bob', 'd1', 'c')]: 6,
    });
    expect(tasks.map((t) => [t.device.deviceId, t.conversationId, t.afterSeq, t.upTo])).toEqual([
      ['d1', 'c', 6, 9],
    ]);
  });

  it('leaves alone devices that are up to date, and users with no online device', () => {
    const { tasks, state } = plan(
      [
        { conversationId: 'c', userId: 'bob', lastSeq: 9 },
        { conversationId: 'c', userId: 'carol', lastSeq: 9 },
      ],
      [device('bob')],
      { [cursorKey('bob', 'd1', 'c')]: 9 },
    );
    expect(tasks).toEqual([]);
    expect(state.size).toBe(0);
  });

  it('backs off per connection and conversation while the cursor does not move, and starts over when it does', () => {
    const m = [{ conversationId: 'c', userId: 'bob', lastSeq: 9 }];
    const cursors = { [cursorKey('bob', 'd1', 'c')]: 2 };
    const first = plan(m, [device('bob')], cursors, new Map(), 0);
    expect(first.tasks).toHaveLength(1);
    expect(plan(m, [device('bob')], cursors, first.state, 999).tasks).toHaveLength(0);
    const second = plan(m, [device('bob')], cursors, first.state, 1000);
    expect(second.tasks).toHaveLength(1);
    // attempt 1: the next one is 2 s later, not 1 s
    expect(plan(m, [device('bob')], cursors, second.state, 2500).tasks).toHaveLength(0);
    expect(plan(m, [device('bob')], cursors, second.state, 3000).tasks).toHaveLength(1);
    // the device acknowledged some: it is due again at once
    const moved = plan(m, [device('bob')], { [cursorKey('bob', 'd1', 'c')]: 5 }, second.state, 1001);
    expect(moved.tasks.map((t) => t.afterSeq)).toEqual([5]);
  });

  it('treats a new connection of the same device as a new start', () => {
    const m = [{ conversationId: 'c', userId: 'bob', lastSeq: 3 }];
    const first = plan(m, [device('bob', 'd1', 'old')], {}, new Map(), 0);
    expect(plan(m, [device('bob', 'd1', 'new')], {}, first.state, 10).tasks).toHaveLength(1);
  });

  it('takes at most `limit` tasks a round and keeps the rest for the next', () => {
    const m = ['a', 'b', 'c'].map((conversationId) => ({ conversationId, userId: 'bob', lastSeq: 1 }));
    const first = plan(m, [device('bob')], {}, new Map(), 0, 2);
    expect(first.tasks.map((t) => t.conversationId)).toEqual(['a', 'b']);
    const second = plan(m, [device('bob')], {}, first.state, 1, 2);
    expect(second.tasks.map((t) => t.conversationId)).toEqual(['c']);
  });
});

describe('takeFromPage', () => {
  const task = (userId: string, afterSeq: number, upTo: number, connectedAt = 0): CatchUpTask => ({
    device: { ...device(userId), connectedAt },
    conversationId: 'c',
    afterSeq,
    upTo,
  });
  const rows = (from: number, to: number, storedAt = 100) =>
    Array.from({ length: to - from + 1 }, (_, i) => ({ message: { seq: from + i }, storedAt }));
  const seqs = (r: { message: { seq: number } }[]) => r.map((x) => x.message.seq);

  it('reads once from the lowest cursor and the earliest connection', () => {
    expect(readRange([task('a', 5, 9, 2000), task('b', 2, 7, 1000)], 500)).toEqual({
      afterSeq: 2,
      upTo: 9,
      storedFrom: 500,
    });
  });

  it('gives each device its own range, stored after it connected', () => {
    const { pushes, rest } = takeFromPage(
      [task('a', 2, 6), task('b', 4, 8, 10_000)],
      [...rows(3, 5, 100), ...rows(6, 8, 20_000)],
      false,
      1000,
    );
    expect(pushes.map((p) => seqs(p.rows))).toEqual([
      [3, 4, 5, 6],
      [6, 7, 8],
    ]);
    expect(rest).toEqual([]);
  });

  // Regression (review): a page cut at its limit by a device far behind (one that never
  // acknowledges, say) left every other behind device of the conversation unserved each round.
  it('returns the devices a full page did not reach, for a read of their own', () => {
    const far = task('a', 0, 500);
    const near = task('b', 300, 500);
    const { pushes, rest } = takeFromPage([far, near], rows(1, 100), true, 0);
    expect(pushes.map((p) => p.task)).toEqual([far]);
    expect(rest).toEqual([near]);
  });
});

describe('catch-up of a device whose cursor does not move', () => {
  // Regression (chaos short on a Redis Cluster, seed 1440415231): after a FLUSHALL the last
  // messages of a busy conversation found a device that never sends deliver_ack "offline", so
  // only the catch-up could bring them, and it pushed the same first page of 100 every round.
  const rows = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => ({ message: { seq: from + i }, storedAt: 1 }));

  it('goes on page by page to the end, then starts over at its cursor after the backoff', () => {
    const memberships = [{ conversationId: 'c', userId: 'u', lastSeq: 250 }];
    const d = device('u');
    let state = new Map<string, CatchUpState>();
    const pushed: [number, number][] = [];
    const round = (now: number) => {
      const p = plan(memberships, [d], {}, state, now);
      state = p.state;
      for (const task of p.tasks) {
        const page = rows(task.afterSeq + 1, Math.min(task.afterSeq + 100, 250));
        const [push] = takeFromPage([task], page, page.length === 100, 60_000).pushes;
        recordCoverage(state, task, push.coveredTo, now);
        pushed.push([push.rows[0].message.seq, push.rows[push.rows.length - 1].message.seq]);
      }
    };
    for (const now of [10_000, 10_500, 11_000, 11_500, 12_000]) round(now);
    // Three rounds cover 1..250; the pass is over, so the next waits for the backoff (1 s).
    expect(pushed).toEqual([
      [1, 100],
      [101, 200],
      [201, 250],
      [1, 100],
    ]);
    expect(state.get('u-conn|c')).toMatchObject({ cursor: 0, attempt: 1 });
  });

  it('starts over from the cursor once the device acknowledged something', () => {
    const memberships = [{ conversationId: 'c', userId: 'u', lastSeq: 250 }];
    const d = device('u');
    const first = plan(memberships, [d], {}, new Map(), 10_000);
    recordCoverage(first.state, first.tasks[0], 100, 10_000);
    const moved = plan(memberships, [d], { [cursorKey('u', 'd1', 'c')]: 40 }, first.state, 10_100);
    expect(moved.tasks.map((t) => t.afterSeq)).toEqual([40]);
  });
});
