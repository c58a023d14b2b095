import { partitionsBehind } from './partitions-behind';

describe('partitionsBehind', () => {
  const from = new Map<number, bigint>([
    [0, 10n],
    [1, 5n],
  ]);

  it('names the partitions whose end is past where fetching would resume', () => {
    expect(partitionsBehind([0, 1], [10n, 7n], (p) => from.get(p))).toEqual([1]);
  });

  it('leaves out partitions with no known position or no known end', () => {
    expect(partitionsBehind([0, 1, 2], [11n], (p) => from.get(p))).toEqual([0]);
    expect(partitionsBehind([2], [99n, 99n, 99n], (p) => from.get(p))).toEqual([]);
  });
});
