import type { Clock, TimerHandle } from './clock';
import { asClientError, ClientError } from './errors';
import type { MessageStore } from './message-store';
import { toMessage, type ClientFrame, type Message } from './protocol';
import { storeBatch } from './store-batch';

/**
 * A seq range that an answer covered completely (docs/protocol.md: sync pages and `history` are
 * the authority on what exists): every existing message with after < seq ≤ upTo was in it.
 */
export interface Coverage {
  conversationId: string;
  /** The cursor the request started from; -Infinity when the server chose it (sync without our cursor). */
  after: number;
  upTo: number;
  /** The server already holds upTo as this device's delivered cursor: no deliver_ack needed. */
  serverHasIt?: boolean;
}

export interface TimelineDeps {
  store: MessageStore;
  clock: Clock;
  ackDebounceMs: number;
  gapPageSize: number;
  /** Puts a frame on the wire; false when not connected. */
  write(frame: ClientFrame): boolean;
  history(
    conversationId: string,
    afterSeq: number,
    limit: number,
  ): Promise<{ messages: Message[]; hasMore: boolean }>;
  onMessage(message: Message): void;
  /** A stored message changed: a control message was applied to it, or a newer copy came. */
  onUpdated(message: Message): void;
  onError(error: ClientError): void;
}

/**
 * Where a batch comes from. 'page': one answer of the server (sync, history), read at once, so
 * its copies of targets reflect every control message up to the page's last seq. 'push': a
 * pushed message; 'own': an own message built from its ack.
 */
export type BatchSource = 'page' | 'push' | 'own';

/**
 * The receiving half of the client: stores messages deduplicated by (conversationId, seq),
 * applies control messages to their targets (store-batch.ts), keeps each conversation's
 * contiguous cursor, acknowledges it with deliver_ack and fills gaps with history. All store
 * work runs one batch at a time, so that dedupe, target state and cursor arithmetic never
 * interleave.
 */
export class Timeline {
  private readonly cursors = new Map<string, number>();
  /** Highest stored seq seen in this session; undefined means "look in the store". */
  private readonly highest = new Map<string, number>();
  /** Last deliver_ack put on the wire, per conversation. */
  private readonly acked = new Map<string, number>();
  private readonly ackDue = new Set<string>();
  private ackTimer?: TimerHandle;
  private readonly filling = new Set<string>();
  /**
   * Conversations whose stored seqs above the cursor were read since load: for them the store
   * lacks cursor + 1, and only a batch that brings it (or coverage that moves the cursor) can
   * move the cursor. Reading every message above a hole on every new message made a hole that
   * lasts (a lost push, until catch-up or gap fill) cost quadratic time.
   */
  private readonly scanned = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();
  private loaded?: Promise<void>;
  private gapFill = false;
  /** The epoch the stored messages came with (docs/protocol.md §7.9), as the store keeps it. */
  private epoch?: string;

  constructor(private readonly deps: TimelineDeps) {}

  /** Reads the persisted cursors and epoch once; later calls share the result. */
  load(): Promise<void> {
    this.loaded ??= Promise.resolve()
      .then(() => Promise.all([this.deps.store.cursors(), this.deps.store.epoch()]))
      .then(([stored, epoch]) => {
        for (const [c, seq] of Object.entries(stored))
          this.cursors.set(c, Math.max(seq, this.cursors.get(c) ?? 0));
        this.epoch = epoch;
      });
    this.loaded.catch(() => (this.loaded = undefined));
    return this.loaded;
  }

  /** Contiguous cursor of every conversation this client knows, for `sync`. */
  cursorSnapshot(): Record<string, number> {
    return Object.fromEntries(this.cursors);
  }

  /**
   * Holds the server's epoch against the one the stored messages came with. The first one is
   * just recorded. Another one means the seqs held may name other messages now: every stored
   * message, hidden seq and cursor is dropped, and each conversation synced so far gets cursor
   * 0, so that the next sync brings it from its first message. Resolves with the earlier epoch
   * when it dropped the store, else undefined.
   */
  adoptEpoch(epoch: string): Promise<string | undefined> {
    return this.serial(async () => {
      await this.load();
      const previous = this.epoch;
      if (previous === epoch) return undefined;
      if (previous !== undefined) await this.dropStored();
      await this.deps.store.setEpoch(epoch);
      this.epoch = epoch;
      return previous;
    });
  }

  /** Stops syncing conversations the user is no longer a member of (the store keeps them). */
  forget(conversationIds: Iterable<string>): void {
    for (const c of conversationIds) {
      this.cursors.delete(c);
      this.scanned.delete(c);
    }
  }

  /** Gap filling talks to the server, so it only runs while the client is ready. */
  setGapFill(enabled: boolean): void {
    this.gapFill = enabled;
    if (!enabled) return;
    for (const [c, top] of this.highest) if (top > (this.cursors.get(c) ?? 0)) this.fill(c);
  }

  /** Called on every welcome: deliver_acks that could not be written go out now. */
  online(): void {
    this.flushAcks();
  }

  dispose(): void {
    this.gapFill = false;
    if (this.ackTimer !== undefined) this.deps.clock.clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  list(conversationId: string): Promise<Message[]> {
    return this.serial(() => this.deps.store.list(conversationId));
  }

  /**
   * Hides a message on this device (after the server's hide_result): it leaves the store, and
   * a late push of it is dropped. Its seq still counts as covered (history leaves it out).
   */
  hide(conversationId: string, seq: number): Promise<void> {
    return this.serial(() => this.deps.store.hide(conversationId, seq));
  }

  /** Stores messages and applies what the answer covered; resolves with the messages that were new. */
  ingest(
    messages: readonly Message[],
    coverage: readonly Coverage[] = [],
    source: BatchSource = 'page',
  ): Promise<Message[]> {
    return this.serial(() => this.apply(messages, coverage, source));
  }

  /** The store first, so that a failed clear leaves this state (and a later retry) as it was. */
  private async dropStored(): Promise<void> {
    const synced = [...this.cursors.keys()];
    await this.deps.store.clear();
    this.epoch = undefined;
    for (const state of [this.cursors, this.highest, this.acked]) state.clear();
    this.ackDue.clear();
    this.scanned.clear();
    for (const c of synced) {
      this.cursors.set(c, 0);
      await this.deps.store.setCursor(c, 0);
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.chain.then(work);
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async apply(
    messages: readonly Message[],
    coverage: readonly Coverage[],
    source: BatchSource,
  ): Promise<Message[]> {
    await this.load();
    const sorted = messages.map(toMessage).sort(byConversationThenSeq);
    const byConversation = new Map<string, Message[]>();
    for (const m of sorted) {
      let list = byConversation.get(m.conversationId);
      if (!list) byConversation.set(m.conversationId, (list = []));
      list.push(m);
    }
    const added: Message[] = [];
    const updated: Message[] = [];
    const addedSeqs = new Map<string, Set<number>>();
    for (const [c, list] of byConversation) {
      const result = await storeBatch(this.deps.store, c, list, source === 'page');
      added.push(...result.added);
      updated.push(...result.updated);
      addedSeqs.set(c, new Set(result.added.map((m) => m.seq)));
    }
    for (const m of added)
      this.highest.set(m.conversationId, Math.max(m.seq, this.highest.get(m.conversationId) ?? 0));
    const touched = new Set([
      ...sorted.map((m) => m.conversationId),
      ...coverage.map((c) => c.conversationId),
    ]);
    for (const c of touched)
      await this.advance(
        c,
        coverage.filter((k) => k.conversationId === c),
        addedSeqs.get(c) ?? new Set(),
      );
    for (const m of added) this.deps.onMessage(m);
    for (const m of updated) this.deps.onUpdated(m);
    // A live push of what we already hold (or hid) means the server missed our deliver_ack (it
    // was lost on its way): say it again, or the server keeps pushing.
    if (source === 'push') {
      const addedKeys = new Set(added.map((m) => `${m.conversationId}#${m.seq}`));
      for (const m of sorted)
        if (
          !addedKeys.has(`${m.conversationId}#${m.seq}`) &&
          m.seq <= (this.cursors.get(m.conversationId) ?? 0)
        )
          this.reack(m.conversationId);
    }
    if (this.gapFill)
      for (const c of touched) if ((this.highest.get(c) ?? 0) > (this.cursors.get(c) ?? 0)) this.fill(c);
    return added;
  }

  /** Moves the conversation's cursor over covered ranges and over seqs stored without a hole. */
  private async advance(c: string, coverage: Coverage[], added: ReadonlySet<number>): Promise<void> {
    const known = this.cursors.get(c);
    let cursor = known ?? 0;
    let serverHasIt = false;
    for (const k of coverage) {
      if (cursor < k.after || k.upTo <= cursor) continue;
      cursor = k.upTo;
      serverHasIt = k.serverHasIt === true;
    }
    const top = this.highest.get(c);
    const mayMove = !this.scanned.has(c) || cursor !== (known ?? 0) || added.has(cursor + 1);
    if ((top === undefined || top > cursor) && mayMove) {
      this.scanned.add(c);
      const above = await this.deps.store.list(c, cursor);
      if (above.length > 0) this.highest.set(c, Math.max(top ?? 0, above[above.length - 1].seq));
      for (const m of above) {
        if (m.seq !== cursor + 1) break;
        cursor = m.seq;
        serverHasIt = false;
      }
    }
    // A conversation first seen through a push above a hole gets no cursor: claiming 0 in
    // the next sync would make the server resend its whole history.
    const changed = known === undefined ? cursor > 0 || coverage.length > 0 : cursor !== known;
    if (!changed) return;
    this.cursors.set(c, cursor);
    await this.deps.store.setCursor(c, cursor);
    if (serverHasIt) this.acked.set(c, Math.max(cursor, this.acked.get(c) ?? 0));
    else if (cursor > (known ?? 0)) this.scheduleAck(c);
  }

  private reack(c: string): void {
    this.acked.delete(c);
    this.scheduleAck(c);
  }

  /** deliver_ack is cumulative, so a short debounce sends one frame for a burst of messages. */
  private scheduleAck(c: string): void {
    this.ackDue.add(c);
    if (this.ackTimer !== undefined) return;
    this.ackTimer = this.deps.clock.setTimeout(() => {
      this.ackTimer = undefined;
      this.flushAcks();
    }, this.deps.ackDebounceMs);
  }

  private flushAcks(): void {
    for (const c of [...this.ackDue]) {
      const seq = this.cursors.get(c) ?? 0;
      if (seq > (this.acked.get(c) ?? 0) && !this.deps.write({ type: 'deliver_ack', conversationId: c, seq }))
        continue; // offline: stays due until the next welcome
      this.acked.set(c, Math.max(seq, this.acked.get(c) ?? 0));
      this.ackDue.delete(c);
    }
  }

  /** Asks `history` for what follows the cursor until the hole is closed; one loop per conversation. */
  private fill(c: string): void {
    if (this.filling.has(c)) return;
    this.filling.add(c);
    void this.fillLoop(c)
      .catch((error: unknown) => {
        const e = asClientError(error, 'storage', `filling a gap of ${c} failed`);
        // A dropped connection is not worth an event: the fill runs again once ready.
        if (e.code !== 'disconnected' && e.code !== 'closed') this.deps.onError(e);
      })
      .finally(() => this.filling.delete(c));
  }

  private async fillLoop(c: string): Promise<void> {
    while (this.gapFill) {
      const cursor = this.cursors.get(c) ?? 0;
      if ((this.highest.get(c) ?? 0) <= cursor) return;
      const page = await this.deps.history(c, cursor, this.deps.gapPageSize);
      const upTo = page.messages.length > 0 ? page.messages[page.messages.length - 1].seq : cursor;
      await this.ingest(page.messages, [{ conversationId: c, after: cursor, upTo }]);
      // No progress means the store cannot hold what history returned: stop rather than spin.
      if ((this.cursors.get(c) ?? 0) <= cursor) return;
    }
  }
}

function byConversationThenSeq(a: Message, b: Message): number {
  return a.conversationId < b.conversationId ? -1 : a.conversationId > b.conversationId ? 1 : a.seq - b.seq;
}
