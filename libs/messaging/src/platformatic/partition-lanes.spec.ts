import { PartitionLanes } from './partition-lanes';

const r = (partition: number, offset: number) => ({ partition, offset: BigInt(offset) });
const offsets = (batch: { offset: bigint }[]) => batch.map((x) => Number(x.offset));

describe('PartitionLanes', () => {
  it('queues records of assigned partitions in order and hands them out in batches', () => {
    const lanes = new PartitionLanes();
    lanes.assign([0, 1]);
    for (const o of [5, 6, 7]) expect(lanes.accept(r(0, o))).toBe(true);
    expect(lanes.accept(r(2, 1))).toBe(false);
    expect(lanes.queued()).toBe(3);
    expect(offsets(lanes.take(0, 2))).toEqual([5, 6]);
    expect(lanes.queuedIn(0)).toBe(1);
    expect(offsets(lanes.take(0, 2))).toEqual([7]);
    expect(lanes.take(1, 2)).toEqual([]);
  });

  // The stream rewinds a kept partition to its committed offset after every assignment
  // change: what was already queued or handled must not be handed twice.
  it('drops records it already accepted when the stream rewinds', () => {
    const lanes = new PartitionLanes();
    lanes.assign([0]);
    for (const o of [10, 11, 12]) lanes.accept(r(0, o));
    lanes.take(0, 10);
    expect([10, 11, 12, 13].map((o) => lanes.accept(r(0, o)))).toEqual([false, false, false, true]);
    expect(offsets(lanes.take(0, 10))).toEqual([13]);
  });

  it('drops the queue of a revoked partition and starts afresh when it comes back', () => {
    const lanes = new PartitionLanes();
    lanes.assign([0, 1]);
    const first = lanes.generation(1);
    lanes.accept(r(1, 3));
    lanes.accept(r(1, 4));
    expect(lanes.assign([0])).toEqual({ revoked: [1], added: [] });
    expect(lanes.queued()).toBe(0);
    expect(lanes.generation(1)).toBeUndefined();
    expect(lanes.assign([0, 1])).toEqual({ revoked: [], added: [1] });
    expect(lanes.generation(1)).not.toBe(first);
    // Its new owner may have committed less than we had seen: those records come again.
    expect(lanes.accept(r(1, 3))).toBe(true);
    expect(lanes.fetchedUpTo(1)).toBe(4n);
  });
});
