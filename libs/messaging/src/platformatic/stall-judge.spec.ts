import { StallJudge, UNANSWERED_LIMIT_MS } from './stall-judge';

const nowhere = () => undefined;

describe('StallJudge', () => {
  it('replaces a member holding a partition with records past where it would fetch', () => {
    const judge = new StallJudge();
    const at = new Map([[1, 5n]]);
    const why = judge.judge(0, [0, 1], (p) => at.get(p), { ends: [0n, 7n], committed: [0n, 5n] });
    expect(why).toBe('partitions 1 are behind');
  });

  it("falls back to the group's commit for a held partition whose fetch position is unknown", () => {
    const judge = new StallJudge();
    expect(judge.judge(0, [0], nowhere, { ends: [9n], committed: [4n] })).toBe('partitions 0 are behind');
    expect(judge.judge(0, [0], nowhere, { ends: [9n], committed: [9n] })).toBeUndefined();
    // Never committed and never fetched: nothing says where it stands.
    expect(judge.judge(0, [0], nowhere, { ends: [9n], committed: [-1n] })).toBeUndefined();
  });

  it('leaves a member that holds partitions and is caught up alone, whatever the rest of the group does', () => {
    const judge = new StallJudge();
    const caughtUp = () => 9n;
    const positions = { ends: [9n, 50n], committed: [9n, 10n] };
    expect(judge.judge(0, [0], caughtUp, positions)).toBeUndefined();
    expect(judge.judge(30_000, [0], caughtUp, positions)).toBeUndefined();
  });

  it('replaces a member holding nothing when a lagging partition has not moved between two checks', () => {
    const judge = new StallJudge();
    expect(judge.judge(0, [], nowhere, { ends: [9n, 50n], committed: [9n, 10n] })).toBeUndefined();
    const why = judge.judge(30_000, [], nowhere, { ends: [9n, 60n], committed: [9n, 10n] });
    expect(why).toBe(
      "it holds no partition while the group's partitions 1 lag and have not moved since the last check",
    );
    // It starts over after a verdict: the replacement gets two checks of its own.
    expect(judge.judge(60_000, [], nowhere, { ends: [9n, 60n], committed: [9n, 10n] })).toBeUndefined();
  });

  it('leaves a member holding nothing alone while the lagging partitions move (another member serves them)', () => {
    const judge = new StallJudge();
    expect(judge.judge(0, [], nowhere, { ends: [50n], committed: [10n] })).toBeUndefined();
    expect(judge.judge(30_000, [], nowhere, { ends: [80n], committed: [40n] })).toBeUndefined();
    expect(judge.judge(60_000, [], nowhere, { ends: [80n], committed: [80n] })).toBeUndefined();
    expect(judge.judge(90_000, [], nowhere, { ends: [80n], committed: [80n] })).toBeUndefined();
  });

  it('forgets what it saw of the group while the member held partitions', () => {
    const judge = new StallJudge();
    expect(judge.judge(0, [], nowhere, { ends: [50n, 9n], committed: [10n, 9n] })).toBeUndefined();
    expect(judge.judge(30_000, [1], () => 9n, { ends: [50n, 9n], committed: [10n, 9n] })).toBeUndefined();
    expect(judge.judge(60_000, [], nowhere, { ends: [50n, 9n], committed: [10n, 9n] })).toBeUndefined();
  });

  it('replaces a member whose stall checks the broker has not answered for a minute, and only then', () => {
    const judge = new StallJudge();
    expect(judge.judge(0, [0], nowhere, undefined)).toBeUndefined();
    expect(judge.judge(UNANSWERED_LIMIT_MS - 1, [0], nowhere, undefined)).toBeUndefined();
    expect(judge.judge(UNANSWERED_LIMIT_MS, [0], nowhere, undefined)).toBe(
      'the broker has not answered its stall checks for 60 s',
    );
    // An answer in between starts the count over.
    expect(judge.judge(70_000, [0], nowhere, undefined)).toBeUndefined();
    expect(judge.judge(80_000, [0], () => 1n, { ends: [1n], committed: [1n] })).toBeUndefined();
    expect(judge.judge(81_000, [0], nowhere, undefined)).toBeUndefined();
    expect(judge.judge(81_000 + UNANSWERED_LIMIT_MS - 1, [0], nowhere, undefined)).toBeUndefined();
  });
});
