import type { CursorMove } from '@im/database';
import { PendingPush } from './repush-schedule';

interface Entry {
  push: PendingPush;
  dueAt: number;
}

const keyOf = (p: { userId: string; deviceId: string; conversationId: string }) =>
  `${p.userId}|${p.deviceId}|${p.conversationId}`;

/**
 * Pushes still waiting for a deliver_ack, in this delivery instance's memory: one entry per
 * device and conversation, whatever the number of messages pushed to it, so a large group
 * costs no Redis write per member and message. An ack handled here drops or narrows its entry
 * at once; an ack handled by another instance is found in the delivered cursors when the entry
 * falls due. A crash loses the entries: the catch-up, which compares PostgreSQL's cursors for
 * online devices, pushes what they still lack (G5).
 */
export class PendingPushes {
  private readonly entries = new Map<string, Entry>();
  /** No entry falls due before this; rounds before it skip the scan. */
  private earliest = Infinity;

  get size(): number {
    return this.entries.size;
  }

  /**
   * Waits for `push` until `dueAt`. Merged into the device's entry for the conversation if one
   * waits on the same connection: the range widens, and the earlier due time and the lower
   * attempt win, so a new message is never re-pushed later than its own first due time.
   */
  add(push: PendingPush, dueAt: number): void {
    const key = keyOf(push);
    const current = this.entries.get(key);
    if (current && current.push.connId === push.connId) {
      current.push = {
        ...current.push,
        fromSeq: Math.min(current.push.fromSeq, push.fromSeq),
        seq: Math.max(current.push.seq, push.seq),
        attempt: Math.min(current.push.attempt, push.attempt),
      };
      current.dueAt = Math.min(current.dueAt, dueAt);
    } else {
      // A reconnected device syncs from its cursor; what the old connection waited for is moot.
      this.entries.set(key, { push, dueAt });
    }
    this.earliest = Math.min(this.earliest, dueAt);
  }

  /** Drops what acks cover; an entry acked part way keeps only the rest of its range. */
  acknowledge(moves: readonly CursorMove[]): void {
    for (const move of moves) {
      const entry = this.entries.get(keyOf(move));
      if (!entry) continue;
      if (move.seq >= entry.push.seq) this.entries.delete(keyOf(move));
      else if (move.seq >= entry.push.fromSeq) entry.push = { ...entry.push, fromSeq: move.seq + 1 };
    }
  }

  /** Removes and returns up to `limit` entries due by `now`. */
  takeDue(now: number, limit: number): PendingPush[] {
    if (now < this.earliest) return [];
    const due: PendingPush[] = [];
    let earliest = Infinity;
    for (const [key, entry] of this.entries) {
      if (entry.dueAt <= now && due.length < limit) {
        due.push(entry.push);
        this.entries.delete(key);
      } else earliest = Math.min(earliest, entry.dueAt);
    }
    this.earliest = earliest;
    return due;
  }
}
