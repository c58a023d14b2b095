import type { ErrorCode } from '@im/protocol';

/** Refusals after which a resend may pass, and so must not be overtaken (docs/protocol.md G3). */
export type PassingCode = Extract<ErrorCode, 'unavailable' | 'rate_limited'>;

export const isPassingCode = (code: ErrorCode): code is PassingCode =>
  code === 'unavailable' || code === 'rate_limited';

interface Fence {
  code: PassingCode;
  /** The refused sends not resent yet, oldest first: only the first may pass. */
  waiting: string[];
  /** Where each refused send stands among the others (a resend refused again goes back there). */
  rank: Map<string, number>;
  /**
   * It lapses then, so a client that gave up on a refused send is not refused for good. Longer
   * than any step of a correct client's resend ladder (32 s at most).
   */
  until: number;
}

/** How many accepted clientMsgIds a connection remembers (copies of them are never held back). */
const PASSED_KEPT = 512;

/**
 * The order rule of one connection after a refusal that may pass: once a send to a
 * conversation is refused `unavailable` or `rate_limited`, every later send of that
 * connection to that conversation is refused with the same code, and the refused sends may
 * come back only in the order they were first refused. A send queued behind a refused one
 * would otherwise be sequenced before the refused one's resend, and so would a send that was
 * already on the wire when the client resent the first refused one (found by the chaos suite:
 * X refused, A refused behind it, X resent, then B, sent before the client knew of A's
 * refusal, was accepted ahead of A's resend). A copy of a send already accepted is never held
 * back: its first copy is ahead of everything, and deduplication answers it. Pure: time is
 * passed in.
 */
export class RefusalFence {
  private readonly fences = new Map<string, Fence>();
  private readonly passed = new Set<string>();
  /** Refusals recorded per conversation, so a send can tell whether one came while it was checked. */
  private readonly refusals = new Map<string, number>();
  private ranks = 0;

  constructor(private readonly lapseMs = 60_000) {}

  /** Called when a send arrives: the code it must be refused with, or undefined when it may go on. */
  verdict(conversationId: string, clientMsgId: string, now: number): PassingCode | undefined {
    const fence = this.fences.get(conversationId);
    if (!fence) return undefined;
    if (now > fence.until) {
      this.fences.delete(conversationId);
      return undefined;
    }
    if (this.passed.has(clientMsgId)) return undefined;
    if (fence.waiting[0] !== clientMsgId) return fence.code;
    fence.waiting.shift();
    if (fence.waiting.length === 0) this.fences.delete(conversationId);
    return undefined;
  }

  /** A mark to compare with `refusedSince` once the send's checks are done. */
  mark(conversationId: string): number {
    return this.refusals.get(conversationId) ?? 0;
  }

  /**
   * Called just before a send admitted at `mark` is published: an earlier send's publish may
   * have failed meanwhile (the checks of one connection's sends are serial, their publishes
   * are not), and then this one is refused with it.
   */
  refusedSince(conversationId: string, mark: number): PassingCode | undefined {
    if (this.mark(conversationId) === mark) return undefined;
    return this.fences.get(conversationId)?.code;
  }

  /** Records a refusal: one that may pass raises the conversation's fence; behind one, it waits in order. */
  refused(conversationId: string, clientMsgId: string, code: ErrorCode, now: number): void {
    // A send refused for good is not resent: nothing may wait for it.
    if (this.passed.has(clientMsgId) || !isPassingCode(code)) return;
    let fence = this.fences.get(conversationId);
    if (!fence) {
      fence = { code, waiting: [], rank: new Map(), until: now + this.lapseMs };
      this.fences.set(conversationId, fence);
    }
    this.refusals.set(conversationId, this.mark(conversationId) + 1);
    if (fence.waiting.includes(clientMsgId)) return;
    const rank = fence.rank.get(clientMsgId) ?? this.ranks++;
    fence.rank.set(clientMsgId, rank);
    const at = fence.waiting.findIndex((id) => fence.rank.get(id)! > rank);
    if (at < 0) fence.waiting.push(clientMsgId);
    else fence.waiting.splice(at, 0, clientMsgId);
  }

  /**
   * The send is in Kafka: its later copies go through whatever is refused, and nothing waits
   * for its resend any more. A copy of it may have been refused while the first copy's publish
   * was still in flight; the client, acked, never resends it, and a fence waiting for that
   * resend would refuse everything behind it until it lapsed (found by the chaos short
   * profile, seed 957339601: one connection's sends refused for 60 s after a Redis restart).
   */
  accepted(clientMsgId: string): void {
    this.passed.add(clientMsgId);
    if (this.passed.size > PASSED_KEPT) this.passed.delete(this.passed.values().next().value!);
    for (const [conversationId, fence] of this.fences) {
      const at = fence.waiting.indexOf(clientMsgId);
      if (at < 0) continue;
      fence.waiting.splice(at, 1);
      if (fence.waiting.length === 0) this.fences.delete(conversationId);
    }
  }
}
