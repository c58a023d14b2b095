import { blockShortfall } from './block-shortfall';

describe('blockShortfall', () => {
  const needs = (...ids: string[]) => ids.map((conversationId) => ({ conversationId }));

  it('reserves nothing for a conversation whose blocks still cover the batch', () => {
    expect(blockShortfall(needs('a', 'a'), () => 2, 100)).toEqual([]);
  });

  it('reserves one block of the usual size when a few seqs are missing', () => {
    expect(blockShortfall(needs('a', 'a', 'a', 'b'), (c) => (c === 'a' ? 1 : 5), 100)).toEqual([
      { conversationId: 'a', size: 100 },
    ]);
  });

  it('reserves a larger block when the batch needs more than one block holds', () => {
    expect(blockShortfall(needs(...Array.from({ length: 150 }, () => 'a')), () => 0, 100)).toEqual([
      { conversationId: 'a', size: 150 },
    ]);
  });
});
