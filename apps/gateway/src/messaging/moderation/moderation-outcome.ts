import { checkBody, ProtocolError } from '@im/protocol';
import type { ModerationVerdict } from '@im/webhooks';

/** How moderation ended, as im_webhook_before_send_total counts it. */
export type ModerationResult = 'allow' | 'reject' | 'replace' | 'fail_open' | 'fail_closed';

/** What a send becomes after moderation: published with this body, or refused. */
export type ModerationOutcome = { result: ModerationResult; remember?: ModerationVerdict } & (
  { publish: Record<string, unknown> } | { refuse: ProtocolError }
);

/**
 * Applies the receiver's verdict to a send (docs/protocol.md §5.8). `undefined` is a call that
 * failed (no answer in time, a non-2xx, an answer that is no verdict). A replacement body must
 * pass the checks a client's body passes; one that does not is a receiver's fault and counts
 * as a failed call. `remember` is the verdict a resend of the same message gets without a new
 * call: every verdict, and a fail-open (the message went through), but not a fail-closed
 * refusal, which the resend retries.
 */
export function moderationOutcome(
  send: { contentType: string; body: Record<string, unknown> },
  verdict: ModerationVerdict | undefined,
  options: { failOpen: boolean; maxBodyBytes: number },
): ModerationOutcome & { invalidReplacement?: ProtocolError } {
  if (verdict?.action === 'allow') return { result: 'allow', publish: send.body, remember: verdict };
  if (verdict?.action === 'reject')
    return { result: 'reject', refuse: new ProtocolError('rejected', verdict.reason), remember: verdict };
  let invalidReplacement: ProtocolError | undefined;
  if (verdict?.action === 'replace') {
    invalidReplacement = checkBody(verdict.body, send.contentType, options.maxBodyBytes);
    if (!invalidReplacement) return { result: 'replace', publish: verdict.body, remember: verdict };
  }
  if (options.failOpen)
    return { result: 'fail_open', publish: send.body, remember: { action: 'allow' }, invalidReplacement };
  return {
    result: 'fail_closed',
    refuse: new ProtocolError('unavailable', 'moderation could not be reached; retry later'),
    invalidReplacement,
  };
}
