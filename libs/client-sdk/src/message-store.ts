import type { Message } from './protocol';

/**
 * Where received messages live, keyed by (conversationId, seq). Pluggable so that an app
 * can keep its timeline in IndexedDB, SQLite, ...; every method may be asynchronous. The
 * client calls it one operation at a time, never concurrently.
 */
export interface MessageStore {
  /**
   * Stores the messages whose (conversationId, seq) is not stored yet and returns those.
   * A message already stored is left as it is, except that `recalled: true` is applied.
   */
  add(messages: readonly Message[]): Promise<Message[]>;
  /** Marks a stored message recalled and empties its body; returns it, or undefined if not stored. */
  recall(conversationId: string, seq: number): Promise<Message | undefined>;
  /** The stored messages of a conversation with seq > afterSeq (default: all), ascending by seq. */
  list(conversationId: string, afterSeq?: number): Promise<Message[]>;
  /** The persisted contiguous cursor of every conversation (see setCursor). */
  cursors(): Promise<Record<string, number>>;
  /**
   * Persists the conversation's contiguous cursor: every existing message with seq ≤ it is
   * stored or known to be absent. It is what the client syncs from and acknowledges.
   */
  setCursor(conversationId: string, seq: number): Promise<void>;
}

interface ConversationMessages {
  /** Ascending seqs: arrivals are almost always in order, so inserting is a push. */
  seqs: number[];
  bySeq: Map<number, Message>;
}

/** The default store: in memory, for the life of the client. */
export class MemoryMessageStore implements MessageStore {
  private readonly conversations = new Map<string, ConversationMessages>();
  private readonly cursorOf = new Map<string, number>();

  async add(messages: readonly Message[]): Promise<Message[]> {
    const added: Message[] = [];
    for (const message of messages) {
      const c = this.conversation(message.conversationId);
      const existing = c.bySeq.get(message.seq);
      if (existing) {
        if (message.recalled && !existing.recalled) markRecalled(existing);
        continue;
      }
      const copy = structuredClone(message);
      c.bySeq.set(copy.seq, copy);
      insertSorted(c.seqs, copy.seq);
      added.push(structuredClone(copy));
    }
    return added;
  }

  async recall(conversationId: string, seq: number): Promise<Message | undefined> {
    const message = this.conversations.get(conversationId)?.bySeq.get(seq);
    if (!message) return undefined;
    markRecalled(message);
    return structuredClone(message);
  }

  async list(conversationId: string, afterSeq = Number.NEGATIVE_INFINITY): Promise<Message[]> {
    const c = this.conversations.get(conversationId);
    if (!c) return [];
    const from = firstAbove(c.seqs, afterSeq);
    return c.seqs.slice(from).map((seq) => structuredClone(c.bySeq.get(seq)!));
  }

  async cursors(): Promise<Record<string, number>> {
    return Object.fromEntries(this.cursorOf);
  }

  async setCursor(conversationId: string, seq: number): Promise<void> {
    this.cursorOf.set(conversationId, seq);
  }

  private conversation(id: string): ConversationMessages {
    let c = this.conversations.get(id);
    if (!c) this.conversations.set(id, (c = { seqs: [], bySeq: new Map() }));
    return c;
  }
}

function markRecalled(message: Message): void {
  message.recalled = true;
  message.body = {};
}

/** Index of the first element greater than value, in an ascending array. */
function firstAbove(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(sorted: number[], value: number): void {
  if (sorted.length === 0 || sorted[sorted.length - 1] < value) sorted.push(value);
  else sorted.splice(firstAbove(sorted, value), 0, value);
}
