import { randomUUID } from 'node:crypto';
import { Frame, TestClient } from './test-client';
import { sleep } from './helpers';

/** Codes after which the contract lets a client resend the same frame (docs/protocol.md §4). */
const PASSING = new Set(['unavailable', 'rate_limited']);

export interface OrderedSendResult {
  /** clientMsgIds in the order they first went on the wire. */
  firstSent: string[];
  /** The ack of each, by clientMsgId. */
  acks: Map<string, Frame>;
  /** Every error frame answered to these sends, by code. */
  errors: Map<string, number>;
  /** Sends refused at least once and acked after a resend. */
  resent: number;
}

/**
 * A client written from the contract alone, not the SDK: it sends `count` messages to one
 * conversation at a steady pace, and behaves as §7 asks after a refusal that may pass: it
 * resends its refused sends in their original order before anything newer. Unanswered sends
 * are resent (oldest first) after `resendAfterMs`, as the ladder does. Resolves when every send
 * is acked; a refusal that may not pass makes it throw.
 */
export async function sendInOrderThroughFaults(
  client: TestClient,
  conversationId: string,
  options: { count: number; paceMs: number; resendAfterMs?: number; timeoutMs?: number; prefix?: string },
): Promise<OrderedSendResult> {
  const { count, paceMs, resendAfterMs = 3000, timeoutMs = 90_000, prefix = 'ord' } = options;
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}-${randomUUID().slice(0, 8)}`);
  const acks = new Map<string, Frame>();
  const errors = new Map<string, number>();
  const refused = new Set<string>();
  const everRefused = new Set<string>();
  const lastSentAt = new Map<string, number>();
  let fatal: Frame | undefined;
  const onFrame = (data: Buffer) => {
    const f = JSON.parse(data.toString('utf8')) as Frame;
    if (f.type === 'ack' && lastSentAt.has(f.clientMsgId)) {
      acks.set(f.clientMsgId, f);
      refused.delete(f.clientMsgId);
    } else if (f.type === 'error' && lastSentAt.has(f.ref)) {
      errors.set(f.code, (errors.get(f.code) ?? 0) + 1);
      if (!PASSING.has(f.code)) fatal = f;
      else if (!acks.has(f.ref)) {
        refused.add(f.ref);
        everRefused.add(f.ref);
      }
    }
  };
  client.ws.on('message', onFrame);
  const transmit = (id: string) => {
    lastSentAt.set(id, Date.now());
    client.sendRaw({
      type: 'send',
      clientMsgId: id,
      conversationId,
      contentType: 'text',
      body: { text: id },
    });
  };
  const deadline = Date.now() + timeoutMs;
  let next = 0;
  try {
    while (acks.size < count) {
      if (fatal) throw new Error(`a send was refused for good: ${JSON.stringify(fatal)}`);
      if (Date.now() > deadline)
        throw new Error(`${count - acks.size} of ${count} sends unacked after ${timeoutMs} ms`);
      if (refused.size > 0) {
        // Refused sends first, oldest first, and nothing newer before them.
        await sleep(200);
        for (const id of ids.filter((x) => refused.has(x))) {
          refused.delete(id);
          transmit(id);
        }
      } else {
        const now = Date.now();
        const stale = ids
          .slice(0, next)
          .filter((id) => !acks.has(id) && now - lastSentAt.get(id)! > resendAfterMs);
        for (const id of stale) transmit(id);
        if (next < count) transmit(ids[next++]);
      }
      await sleep(paceMs);
    }
  } finally {
    client.ws.off('message', onFrame);
  }
  return {
    firstSent: ids,
    acks,
    errors,
    resent: [...everRefused].filter((id) => acks.has(id)).length,
  };
}
