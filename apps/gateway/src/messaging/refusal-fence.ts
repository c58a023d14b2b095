import type { ErrorCode } from '@im/protocol';

/** Refusals after which a resend may pass, and so must not be overtaken (PROTOCOL G3). */
export type PassingCode = Extract<ErrorCode, 'unavailable' | 'rate_limited'>;

export const isPassingCode = (code: ErrorCode): code is PassingCode =>
  code === 'unavailable' || code === 'rate_limited';

interface Fence {
  code: PassingCode;
  /** The send whose refusal raised the fence: its resend opens it. */
  oldest: string;
  /**
   * It lapses then, so a client that gave up on the oldest send is not refused for good. Longer
   * than any step of a correct client's resend ladder (32 s at most).
   */
  until: number;
}

/**
 * The order rule of one connection after a refusal that may pass: once a send to a
 * conversation is refused `unavailable` or `rate_limited`, every later send of that
 * connection to that conversation is refused with the same code, until the client resends
 * the first refused one. Without it, a send queued behind a refused one would be sequenced
 * before the refused one's resend. Only the oldest opens it: a client that resends early may
 * put a copy of a later send on the wire before the oldest one's. Pure: time is passed in.
 */
export class RefusalFence {
  private readonly fences = new Map<string, Fence>();

  constructor(private readonly lapseMs = 60_000) {}

  /**
   * Called when a send arrives and again just before it is published: the code it must be
   * refused with, or undefined when it may go on. The resend of the oldest refused send opens
   * the fence.
   */
  verdict(conversationId: string, clientMsgId: string, now: number): PassingCode | undefined {
    const fence = this.fences.get(conversationId);
    if (!fence) return undefined;
    if (now > fence.until || fence.oldest === clientMsgId) {
      this.fences.delete(conversationId);
      return undefined;
    }
    return fence.code;
  }

  /** Records a refusal; the first that may pass raises the conversation's fence. */
  refused(conversationId: string, clientMsgId: string, code: ErrorCode, now: number): void {
    if (!this.fences.has(conversationId) && isPassingCode(code))
      this.fences.set(conversationId, { code, oldest: clientMsgId, until: now + this.lapseMs });
  }
}
