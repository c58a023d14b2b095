import { CommitWatermarks } from './commit-watermarks';

describe('CommitWatermarks', () => {
  it('commits the offset after the last durable batch of each partition, once', () => {
    const w = new CommitWatermarks();
    expect(w.pending()).toEqual([]);
    w.handled(0, '4');
    w.handled(0, '9');
    w.handled(2, '0');
    expect(w.pending()).toEqual([
      { partition: 0, offset: '10' },
      { partition: 2, offset: '1' },
    ]);
    w.committedAt(w.pending());
    expect(w.pending()).toEqual([]);
    w.handled(2, '3');
    expect(w.pending()).toEqual([{ partition: 2, offset: '4' }]);
  });

  it('never moves a partition back when a replay handles lower offsets again', () => {
    const w = new CommitWatermarks();
    w.handled(1, '20');
    w.committedAt(w.pending());
    w.handled(1, '15');
    expect(w.pending()).toEqual([]);
  });

  it('keeps a commit that failed pending for the next attempt', () => {
    const w = new CommitWatermarks();
    w.handled(0, '1');
    const attempt = w.pending();
    w.handled(0, '2');
    expect(w.pending()).toEqual([{ partition: 0, offset: '3' }]);
    w.committedAt(attempt);
    expect(w.pending()).toEqual([{ partition: 0, offset: '3' }]);
  });

  it('forgets partitions that moved to another consumer', () => {
    const w = new CommitWatermarks();
    w.handled(0, '5');
    w.handled(1, '7');
    w.assigned([1, 3]);
    expect(w.pending()).toEqual([{ partition: 1, offset: '8' }]);
  });

  it('handles offsets beyond 2^53', () => {
    const w = new CommitWatermarks();
    w.handled(0, '9007199254740993');
    expect(w.pending()).toEqual([{ partition: 0, offset: '9007199254740994' }]);
  });
});
