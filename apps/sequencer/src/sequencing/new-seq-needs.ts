import type { Assignment } from '@im/idempotency';

export interface NewSeqNeed {
  key: string;
  conversationId: string;
}

/**
 * Which pending messages of a batch need a new seq: once per idempotency key, in partition
 * order. A key that was assigned before (`earlier`, from Redis) keeps its assignment; a key
 * seen twice in the batch is one message sent twice. Pure: the caller counts the repeats.
 */
export function newSeqNeeds(
  pending: readonly number[],
  keys: readonly string[],
  conversationOf: (index: number) => string,
  earlier: ReadonlyMap<string, Assignment>,
): { needs: NewSeqNeed[]; reused: Map<string, Assignment>; repeats: number } {
  const needs: NewSeqNeed[] = [];
  const reused = new Map<string, Assignment>();
  const seen = new Set<string>();
  let repeats = 0;
  for (const i of pending) {
    const key = keys[i];
    const found = earlier.get(key);
    if (found || seen.has(key)) {
      repeats++;
      if (found) reused.set(key, found);
      continue;
    }
    seen.add(key);
    needs.push({ key, conversationId: conversationOf(i) });
  }
  return { needs, reused, repeats };
}
