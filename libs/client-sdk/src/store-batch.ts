import type { MessageStore, StoredMessage } from './message-store';
import type { Message } from './protocol';
import {
  applyControls,
  controlTarget,
  isControl,
  mergeBase,
  sameMessage,
  type TargetBase,
} from './target-state';

export interface BatchResult {
  /** Messages stored for the first time, as they stand, ascending by seq. */
  added: Message[];
  /** Messages held before whose shown state changed (a control applied, a newer copy), ascending by seq. */
  updated: Message[];
}

/**
 * Stores one conversation's arriving messages and recomputes every target they touch, by the
 * rule of target-state.ts: a message (new or again) is shown as its base with the held control
 * messages applied, and a new control message makes its stored target be recomputed.
 *
 * `snapshot`: the messages are one answer the server read at once (a sync or history page), so
 * each copy reflects every control message up to the highest seq of the batch. Otherwise (a
 * push, an own message built from its ack) a copy is known to reflect nothing after itself.
 */
export async function storeBatch(
  store: MessageStore,
  conversationId: string,
  messages: readonly Message[],
  snapshot: boolean,
): Promise<BatchResult> {
  const arriving = new Map<number, Message>();
  for (const m of messages) arriving.set(m.seq, m);
  const top = Math.max(...arriving.keys());
  const aimedAt = new Set<number>();
  for (const m of arriving.values()) {
    const target = controlTarget(m);
    if (target !== undefined) aimedAt.add(target);
  }
  const { stored, hidden } = await store.get(conversationId, [...arriving.keys(), ...aimedAt]);
  const held = new Map(stored.map((r) => [r.message.seq, r]));
  const dropped = new Set(hidden);

  /** seq → the record as it will be written. */
  const next = new Map<number, StoredMessage>();
  for (const m of arriving.values()) {
    if (dropped.has(m.seq)) continue; // hidden on this device: a late push of it is dropped
    const old = held.get(m.seq);
    const incoming: TargetBase = { base: m, asOf: snapshot ? top : m.seq };
    if (!old) next.set(m.seq, { message: m, asOf: incoming.asOf });
    // A control message does not change; a target's copy is merged with the one held.
    else if (!isControl(m)) next.set(m.seq, { message: m, ...mergeBase(baseOf(old), incoming) });
  }

  // Targets to recompute: every message that (re)arrived, and the held targets of new controls.
  const targets = new Set<number>();
  for (const [seq, r] of next) if (!isControl(r.message)) targets.add(seq);
  for (const seq of aimedAt) {
    const target = next.get(seq) ?? held.get(seq);
    // The server refuses a control aimed at a control message; one that got through changes nothing.
    if (target && !isControl(target.message)) targets.add(seq);
  }
  if (targets.size > 0) {
    const controls = await store.controls(conversationId, [...targets]);
    for (const m of next.values()) if (isControl(m.message)) controls.push(m.message);
    const byTarget = new Map<number, Message[]>();
    for (const c of controls) {
      const seq = controlTarget(c)!;
      let aimed = byTarget.get(seq);
      if (!aimed) byTarget.set(seq, (aimed = []));
      aimed.push(c);
    }
    for (const seq of targets) {
      const record = next.get(seq) ?? held.get(seq)!;
      const { base, asOf } = baseOf(record);
      const message = applyControls({ base, asOf }, byTarget.get(seq) ?? []);
      next.set(seq, sameMessage(message, base) ? { message, asOf } : { message, base, asOf });
    }
  }

  const added: Message[] = [];
  const updated: Message[] = [];
  const writes: StoredMessage[] = [];
  for (const [seq, record] of [...next].sort(([a], [b]) => a - b)) {
    const old = held.get(seq);
    if (!old) added.push(record.message);
    else if (!sameMessage(old.message, record.message)) updated.push(record.message);
    if (!old || !sameRecord(old, record)) writes.push(record);
  }
  if (writes.length > 0) await store.put(writes);
  return { added, updated };
}

function baseOf(r: StoredMessage): TargetBase {
  return { base: r.base ?? r.message, asOf: r.asOf ?? r.message.seq };
}

function sameRecord(a: StoredMessage, b: StoredMessage): boolean {
  const x = baseOf(a);
  const y = baseOf(b);
  return x.asOf === y.asOf && sameMessage(a.message, b.message) && sameMessage(x.base, y.base);
}
