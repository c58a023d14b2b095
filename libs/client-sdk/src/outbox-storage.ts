import type { ClientErrorCode } from './errors';
import type { EditFrame, ReactFrame, RecallFrame, SendFrame } from './protocol';

/** A frame the outbox keeps until its `ack`: exactly what goes on the wire, every time. */
export type OutboxFrame = SendFrame | EditFrame | ReactFrame | RecallFrame;

/** The message-creating frames (docs/protocol.md §7.1): the only ones an outbox entry may hold. */
const OUTBOX_FRAME_TYPES: ReadonlySet<string> = new Set<OutboxFrame['type']>([
  'send',
  'edit',
  'react',
  'recall',
]);

/** 'pending' is (re)sent until acked; 'failed' waits for retry() or discard(). */
export type OutboxState = 'pending' | 'failed';

export interface OutboxEntry {
  clientMsgId: string;
  frame: OutboxFrame;
  /** When send(), edit(), react() or recall() was called (the client's clock). */
  createdAt: number;
  state: OutboxState;
  /** Why it failed, when state is 'failed'. */
  error?: { code: ClientErrorCode; message: string };
}

/**
 * Where the outbox survives restarts. One storage per user and device: entries are resent
 * with whatever token the client has. `put` and `delete` resolve once the change is durable,
 * and changes take effect in the order they were called (a delete after a put wins).
 */
export interface OutboxStorage {
  /** Every stored entry, oldest first. */
  load(): Promise<OutboxEntry[]>;
  /** Inserts or replaces the entry with this clientMsgId. */
  put(entry: OutboxEntry): Promise<void>;
  delete(clientMsgId: string): Promise<void>;
}

/** Keeps entries for the life of the process only (the default; tests, short-lived bots). */
export class MemoryOutboxStorage implements OutboxStorage {
  private readonly entries = new Map<string, OutboxEntry>();

  async load(): Promise<OutboxEntry[]> {
    return [...this.entries.values()].map((e) => structuredClone(e));
  }

  async put(entry: OutboxEntry): Promise<void> {
    // A copy, as a real storage would keep: later changes of the caller's object do not leak in.
    this.entries.set(entry.clientMsgId, structuredClone(entry));
  }

  async delete(clientMsgId: string): Promise<void> {
    this.entries.delete(clientMsgId);
  }
}

/** True for a value loaded from storage that has the shape of an entry this SDK wrote. */
export function isOutboxEntry(value: unknown): value is OutboxEntry {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Partial<OutboxEntry>;
  return (
    typeof e.clientMsgId === 'string' &&
    typeof e.createdAt === 'number' &&
    (e.state === 'pending' || e.state === 'failed') &&
    typeof e.frame === 'object' &&
    e.frame !== null &&
    OUTBOX_FRAME_TYPES.has(e.frame.type) &&
    e.frame.clientMsgId === e.clientMsgId
  );
}
