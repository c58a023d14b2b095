import { newSeqNeeds } from './new-seq-needs';

describe('newSeqNeeds', () => {
  const keys = ['k1', 'k2', 'k1', 'k3', 'k2'];
  const conversationOf = (i: number) => (i < 2 ? 'c1' : 'c2');

  it('asks for one seq per new key, in partition order, and counts repeats within the batch', () => {
    const { needs, reused, repeats } = newSeqNeeds([0, 1, 2, 3, 4], keys, conversationOf, new Map());
    expect(needs).toEqual([
      { key: 'k1', conversationId: 'c1' },
      { key: 'k2', conversationId: 'c1' },
      { key: 'k3', conversationId: 'c2' },
    ]);
    expect(reused.size).toBe(0);
    expect(repeats).toBe(2);
  });

  it('keeps the earlier assignment of a key Redis knows, and only looks at the pending indexes', () => {
    const earlier = new Map([['k2', { seq: 7, messageId: 'm7', sentAt: 1 }]]);
    const { needs, reused, repeats } = newSeqNeeds([1, 3, 4], keys, conversationOf, earlier);
    expect(needs).toEqual([{ key: 'k3', conversationId: 'c2' }]);
    expect(reused).toEqual(earlier);
    expect(repeats).toBe(2);
  });
});
