/**
 * The blocks to reserve before a batch can be numbered: for each conversation that has fewer
 * seqs left than the batch needs, one block of at least `blockSize` that covers what is missing.
 */
export function blockShortfall(
  needs: readonly { conversationId: string }[],
  remaining: (conversationId: string) => number,
  blockSize: number,
): { conversationId: string; size: number }[] {
  const count = new Map<string, number>();
  for (const { conversationId } of needs) count.set(conversationId, (count.get(conversationId) ?? 0) + 1);
  return [...count]
    .map(([conversationId, n]) => ({ conversationId, missing: n - remaining(conversationId) }))
    .filter((r) => r.missing > 0)
    .map((r) => ({ conversationId: r.conversationId, size: Math.max(blockSize, r.missing) }));
}
