import type { Message } from './protocol';
import { controlTarget } from './target-state';

/**
 * What the store keeps of one message. `message` is what the app sees (`list` returns it);
 * `base` and `asOf` are what the client recomputes it from when a control message aimed at it
 * arrives (see target-state.ts): persist them as they are given.
 */
export interface StoredMessage {
  /** The message as it stands: the server's copy with the held control messages applied. */
  message: Message;
  /** The server's copy it was computed from; absent when that is `message` itself. */
  base?: Message;
  /** Control messages aimed at it with seq ≤ asOf are reflected in the base; absent: its own seq. */
  asOf?: number;
}

/**
 * Where received messages live, keyed by (conversationId, seq). Pluggable so that an app
 * can keep its timeline in IndexedDB, SQLite, ...; every method may be asynchronous. The
 * client calls it one operation at a time, never concurrently.
 */
export interface MessageStore {
  /** The records stored at these seqs (absent ones left out), and which of the seqs were hidden. */
  get(
    conversationId: string,
    seqs: readonly number[],
  ): Promise<{ stored: StoredMessage[]; hidden: number[] }>;
  /** Inserts or replaces each record, keyed by (message.conversationId, message.seq); a hidden seq is ignored. */
  put(records: readonly StoredMessage[]): Promise<void>;
  /**
   * The stored control messages (contentType recall, edit or reaction) whose body.targetSeq is
   * one of targetSeqs, ascending by seq. Hidden ones count too: hiding a control message does
   * not undo what it did (the server's copy of the target keeps it as well).
   */
  controls(conversationId: string, targetSeqs: readonly number[]): Promise<Message[]>;
  /**
   * "Delete for me": removes the message and remembers its seq, so that a late push of it is
   * dropped: `get` reports the seq as hidden, `put` ignores it, `list` leaves it out.
   */
  hide(conversationId: string, seq: number): Promise<void>;
  /** The stored messages of a conversation with seq > afterSeq (default: all), ascending by seq. */
  list(conversationId: string, afterSeq?: number): Promise<Message[]>;
  /** The persisted contiguous cursor of every conversation (see setCursor). */
  cursors(): Promise<Record<string, number>>;
  /**
   * Persists the conversation's contiguous cursor: every existing message with seq ≤ it is
   * stored or known to be absent. It is what the client syncs from and acknowledges.
   */
  setCursor(conversationId: string, seq: number): Promise<void>;
  /**
   * The epoch (generation of the server's history, docs/protocol.md §7.9) the stored messages
   * came with; undefined until one was recorded. Keep it with the messages: a client restarted
   * on this store compares it with the server's.
   */
  epoch(): Promise<string | undefined>;
  /** Records the epoch of the stored messages. */
  setEpoch(epoch: string): Promise<void>;
  /**
   * Forgets everything: messages, hidden seqs, cursors and the epoch, as a new store. After it
   * the client writes the cursors to sync from and the new epoch, the epoch last, so that a
   * crash in between never pairs old messages with the new epoch.
   */
  clear(): Promise<void>;
}

interface ConversationMessages {
  /** Ascending seqs of the stored messages: arrivals are almost always in order, so inserting is a push. */
  seqs: number[];
  bySeq: Map<number, StoredMessage>;
  /** Target seq → the control messages aimed at it, by their seq. */
  controls: Map<number, Map<number, Message>>;
  hidden: Set<number>;
}

/** The default store: in memory, for the life of the client. */
export class MemoryMessageStore implements MessageStore {
  private readonly conversations = new Map<string, ConversationMessages>();
  private readonly cursorOf = new Map<string, number>();
  private storedEpoch?: string;

  async get(
    conversationId: string,
    seqs: readonly number[],
  ): Promise<{ stored: StoredMessage[]; hidden: number[] }> {
    const c = this.conversations.get(conversationId);
    if (!c) return { stored: [], hidden: [] };
    const stored: StoredMessage[] = [];
    const hidden: number[] = [];
    for (const seq of new Set(seqs)) {
      const record = c.bySeq.get(seq);
      if (record) stored.push(structuredClone(record));
      else if (c.hidden.has(seq)) hidden.push(seq);
    }
    return { stored, hidden };
  }

  async put(records: readonly StoredMessage[]): Promise<void> {
    for (const record of records) {
      const c = this.conversation(record.message.conversationId);
      const seq = record.message.seq;
      if (c.hidden.has(seq)) continue;
      // A copy, as a real store would keep: later changes of the caller's object do not leak in.
      const copy = structuredClone(record);
      if (!c.bySeq.has(seq)) insertSorted(c.seqs, seq);
      c.bySeq.set(seq, copy);
      const target = controlTarget(copy.message);
      if (target === undefined) continue;
      let aimed = c.controls.get(target);
      if (!aimed) c.controls.set(target, (aimed = new Map()));
      aimed.set(seq, copy.message);
    }
  }

  async controls(conversationId: string, targetSeqs: readonly number[]): Promise<Message[]> {
    const c = this.conversations.get(conversationId);
    if (!c) return [];
    const found: Message[] = [];
    for (const target of new Set(targetSeqs))
      for (const m of c.controls.get(target)?.values() ?? []) found.push(structuredClone(m));
    return found.sort((a, b) => a.seq - b.seq);
  }

  async hide(conversationId: string, seq: number): Promise<void> {
    const c = this.conversation(conversationId);
    c.hidden.add(seq);
    if (!c.bySeq.delete(seq)) return;
    c.seqs.splice(firstAbove(c.seqs, seq) - 1, 1);
  }

  async list(conversationId: string, afterSeq = Number.NEGATIVE_INFINITY): Promise<Message[]> {
    const c = this.conversations.get(conversationId);
    if (!c) return [];
    const from = firstAbove(c.seqs, afterSeq);
    return c.seqs.slice(from).map((seq) => structuredClone(c.bySeq.get(seq)!.message));
  }

  async cursors(): Promise<Record<string, number>> {
    return Object.fromEntries(this.cursorOf);
  }

  async setCursor(conversationId: string, seq: number): Promise<void> {
    this.cursorOf.set(conversationId, seq);
  }

  async epoch(): Promise<string | undefined> {
    return this.storedEpoch;
  }

  async setEpoch(epoch: string): Promise<void> {
    this.storedEpoch = epoch;
  }

  async clear(): Promise<void> {
    this.conversations.clear();
    this.cursorOf.clear();
    this.storedEpoch = undefined;
  }

  private conversation(id: string): ConversationMessages {
    let c = this.conversations.get(id);
    if (!c)
      this.conversations.set(
        id,
        (c = { seqs: [], bySeq: new Map(), controls: new Map(), hidden: new Set() }),
      );
    return c;
  }
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
