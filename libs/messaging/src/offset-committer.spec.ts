import { CommitWatermarks } from './commit-watermarks';
import { OffsetCommitter } from './offset-committer';

describe('OffsetCommitter', () => {
  function setup(fail = false) {
    const watermarks = new CommitWatermarks();
    watermarks.assigned([0, 1]);
    const sent: { partition: number; offset: string }[][] = [];
    const failures: unknown[] = [];
    let release: () => void = () => undefined;
    const committer = new OffsetCommitter(
      watermarks,
      (offsets) => {
        sent.push(offsets);
        return new Promise<void>(
          (resolve, reject) => (release = () => (fail ? reject(new Error('moved')) : resolve())),
        );
      },
      (e) => failures.push(e),
    );
    return { watermarks, committer, sent, failures, release: () => release() };
  }

  it('commits each watermark once, and a call during a commit joins it', async () => {
    const { watermarks, committer, sent, release } = setup();
    watermarks.handled(0, '9');
    const first = committer.commit();
    watermarks.handled(1, '4');
    const joined = committer.commit();
    release();
    await Promise.all([first, joined]);
    expect(sent).toEqual([[{ partition: 0, offset: '10' }]]);
    const next = committer.commit();
    release();
    await next;
    expect(sent[1]).toEqual([{ partition: 1, offset: '5' }]);
    await committer.commit();
    expect(sent).toHaveLength(2);
  });

  it('reports a failed commit and offers the same offsets again on the next call', async () => {
    const { watermarks, committer, sent, failures, release } = setup(true);
    watermarks.handled(0, '1');
    const first = committer.commit();
    release();
    await first;
    expect(failures).toHaveLength(1);
    void committer.commit();
    expect(sent).toEqual([[{ partition: 0, offset: '2' }], [{ partition: 0, offset: '2' }]]);
  });

  it('counts a commit with no answer in time as failed, so that the next one goes out', async () => {
    jest.useFakeTimers();
    try {
      const watermarks = new CommitWatermarks();
      watermarks.assigned([0]);
      const sent: unknown[] = [];
      const failures: unknown[] = [];
      const committer = new OffsetCommitter(
        watermarks,
        (offsets) => {
          sent.push(offsets);
          return new Promise<void>(() => undefined); // the broker died with it in flight
        },
        (e) => failures.push(e),
        10_000,
      );
      watermarks.handled(0, '1');
      const hung = committer.commit();
      await jest.advanceTimersByTimeAsync(9_999);
      expect(committer.commit()).toBe(hung); // still joined
      await jest.advanceTimersByTimeAsync(1);
      await hung;
      expect(failures).toEqual([expect.objectContaining({ name: 'CommitTimeoutError' })]);
      watermarks.handled(0, '2');
      void committer.commit();
      expect(sent).toEqual([[{ partition: 0, offset: '2' }], [{ partition: 0, offset: '3' }]]);
    } finally {
      jest.useRealTimers();
    }
  });
});
