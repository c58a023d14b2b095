import { SeqAllocator } from './seq-allocator';

/** A stand-in for the seq_blocks table: the durable ceiling per conversation. */
class CeilingStore {
  ceilings = new Map<string, number>();
  reserve(conversationId: string, size: number) {
    const ceiling = (this.ceilings.get(conversationId) ?? 0) + size;
    this.ceilings.set(conversationId, ceiling);
    return ceiling;
  }
}

function next(allocator: SeqAllocator, store: CeilingStore, conversationId: string, size: number) {
  let taken = allocator.take(conversationId);
  if (taken === null) {
    allocator.addBlock(conversationId, store.reserve(conversationId, size), size);
    taken = allocator.take(conversationId)!;
  }
  return taken.seq;
}

describe('SeqAllocator', () => {
  it('numbers a conversation 1, 2, 3 … across blocks', () => {
    const allocator = new SeqAllocator();
    const store = new CeilingStore();
    const seqs = Array.from({ length: 7 }, () => next(allocator, store, 'c', 3));
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(store.ceilings.get('c')).toBe(9);
  });

  it('keeps conversations independent', () => {
    const allocator = new SeqAllocator();
    const store = new CeilingStore();
    expect([
      next(allocator, store, 'a', 10),
      next(allocator, store, 'b', 10),
      next(allocator, store, 'a', 10),
    ]).toEqual([1, 1, 2]);
  });

  it('never reuses a seq after a restart or rebalance: it restarts above the stored ceiling', () => {
    const store = new CeilingStore();
    const first = new SeqAllocator();
    const before = [next(first, store, 'c', 5), next(first, store, 'c', 5)];
    first.reset(); // or a new process: in-memory state is gone
    const second = new SeqAllocator();
    const after = [next(second, store, 'c', 5), next(second, store, 'c', 5)];
    expect(before).toEqual([1, 2]);
    expect(after).toEqual([6, 7]);
    expect(Math.min(...after)).toBeGreaterThan(Math.max(...before));
  });

  it('gives unique seqs even when two instances overlap during a rebalance', () => {
    const store = new CeilingStore();
    const a = new SeqAllocator();
    const b = new SeqAllocator();
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) {
      seen.add(next(i % 2 ? a : b, store, 'c', 4));
    }
    expect(seen.size).toBe(50);
  });

  it('uses what is left of a block before a block queued behind it, and counts what remains', () => {
    const allocator = new SeqAllocator<string>();
    allocator.addBlock('c', 3, 3, 'old'); // 1..3
    expect(allocator.take('c')).toEqual({ seq: 1, tag: 'old' });
    expect(allocator.remaining('c')).toBe(2);
    allocator.addBlock('c', 10, 4, 'new'); // 7..10, reserved because a batch needs 5 more
    expect(allocator.remaining('c')).toBe(6);
    const seqs = Array.from({ length: 6 }, () => allocator.take('c'));
    expect(seqs.map((t) => t?.seq)).toEqual([2, 3, 7, 8, 9, 10]);
    expect(seqs.map((t) => t?.tag)).toEqual(['old', 'old', 'new', 'new', 'new', 'new']);
    expect(allocator.take('c')).toBeNull();
  });

  it('forgets one conversation on drop and every one on reset', () => {
    const allocator = new SeqAllocator();
    allocator.addBlock('a', 5, 5);
    allocator.addBlock('b', 5, 5);
    allocator.drop('a');
    expect(allocator.take('a')).toBeNull();
    expect(allocator.take('b')?.seq).toBe(1);
    allocator.reset();
    expect(allocator.remaining('b')).toBe(0);
  });
});
