import type { ErrorCode } from '@im/protocol';

/** Refusals after which a resend may pass, and so must not be overtaken (PROTOCOL G3). */
export type PassingCode = Extract<ErrorCode, 'unavailable' | 'rate_limited'>;

export const isPassingCode = (code: ErrorCode): code is PassingCode =>
  code === 'unavailable' || code === 'rate_limited';

interface Fence {
  code: PassingCode;
  /** clientMsgIds refused behind this fence; the resend of any of them opens it. */
  refused: Set<string>;
  /** A fence nobody resends into lapses then, so a client that gave up is not refused forever. */
  until: number;
}

/**
 * The order rule of one connection after a refusal that may pass: once a send to a
 * conversation is refused `unavailable` or `rate_limited`, every later send of that
 * connection to that conversation is refused with the same code, until the client resends
 * one of the refused sends (it resends them oldest first, so the first resend is the oldest).
 * Without it, a send queued behind a refused one would be sequenced before the refused one's
 * resend. Pure: time is passed in.
 */
export class RefusalFence {
  private readonly fences = new Map<string, Fence>();

  constructor(private readonly lapseMs = 60_000) {}

  /**
   * Called when a send arrives and again just before it is published: the code it must be
   * refused with, or undefined when it may go on. A resend of a refused send opens the fence.
   */
  verdict(conversationId: string, clientMsgId: string, now: number): PassingCode | undefined {
    const fence = this.fences.get(conversationId);
    if (!fence) return undefined;
    if (now > fence.until || fence.refused.has(clientMsgId)) {
      this.fences.delete(conversationId);
      return undefined;
    }
    return fence.code;
  }

  /** Records a refusal; one that may pass raises (or extends) the conversation's fence. */
  refused(conversationId: string, clientMsgId: string, code: ErrorCode, now: number): void {
    const fence = this.fences.get(conversationId);
    if (fence) {
      fence.refused.add(clientMsgId);
      fence.until = now + this.lapseMs;
    } else if (isPassingCode(code)) {
      this.fences.set(conversationId, { code, refused: new Set([clientMsgId]), until: now + this.lapseMs });
    }
  }

  /** Whether the conversation is fenced (for the check that runs just before publishing). */
  isFenced(conversationId: string): boolean {
    return this.fences.has(conversationId);
  }
}
