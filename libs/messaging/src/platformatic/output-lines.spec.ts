import { OutputLines } from './output-lines';

describe('OutputLines', () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };
  const tick = () => new Promise((r) => setImmediate(r));

  it('marks a batch done only once its output and every earlier one of the partition are durable', async () => {
    const lines = new OutputLines(8, () => undefined);
    const done: string[] = [];
    const [a, b] = [deferred(), deferred()];
    lines.add(0, a.promise, () => done.push('a'));
    lines.add(0, b.promise, () => done.push('b'));
    lines.add(1, undefined, () => done.push('other partition'));
    b.resolve();
    await tick();
    expect(done).toEqual(['other partition']);
    a.resolve();
    await tick();
    expect(done).toEqual(['other partition', 'a', 'b']);
  });

  it('makes room once the oldest output is durable when the partition is full', async () => {
    const lines = new OutputLines(2, () => undefined);
    const [a, b] = [deferred(), deferred()];
    lines.add(0, a.promise, () => undefined);
    lines.add(0, b.promise, () => undefined);
    let room = false;
    void lines.room(0).then(() => (room = true));
    await tick();
    expect(room).toBe(false);
    a.resolve();
    b.resolve();
    await tick();
    expect(room).toBe(true);
  });

  it('reports a failed output once, marks nothing after it done, and takes no more until cleared', async () => {
    const failures: number[] = [];
    const lines = new OutputLines(8, (p) => failures.push(p));
    const done: string[] = [];
    const [a, b] = [deferred(), deferred()];
    lines.add(3, a.promise, () => done.push('a'));
    lines.add(3, b.promise, () => done.push('b'));
    a.reject(new Error('broker gone'));
    b.resolve();
    await lines.settled();
    expect(done).toEqual([]);
    expect(failures).toEqual([3]);
    expect(lines.hasFailed(3)).toBe(true);
    lines.clear();
    expect(lines.hasFailed(3)).toBe(false);
  });
});
