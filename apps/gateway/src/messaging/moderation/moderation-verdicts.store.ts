import { Inject, Injectable } from '@nestjs/common';
import { IDEMPOTENCY_TTL_SECONDS, idempotencyKey } from '@im/idempotency';
import { REDIS, type RedisClient } from '@im/realtime';
import type { ModerationVerdict } from '@im/webhooks';

export interface SendKey {
  conversationId: string;
  senderId: string;
  clientMsgId: string;
}

// Tagged by conversation like the idempotency key it is read with: one slot on a Redis Cluster.
const verdictKey = (k: SendKey) => `modv:{${k.conversationId}}|${k.senderId}|${k.clientMsgId}`;

/**
 * The verdict each send got, kept as long as the sequencer remembers its clientMsgId, so that a
 * client's resend gets the same answer without asking the receiver again.
 */
@Injectable()
export class ModerationVerdicts {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /** The earlier verdict; an `allow` too when the pipeline already sequenced the message. */
  async recall(k: SendKey): Promise<ModerationVerdict | undefined> {
    const [verdict, assigned] = await this.redis.mget(
      verdictKey(k),
      idempotencyKey(k.conversationId, k.senderId, k.clientMsgId),
    );
    if (verdict) return JSON.parse(verdict) as ModerationVerdict;
    return assigned ? { action: 'allow' } : undefined;
  }

  async remember(k: SendKey, verdict: ModerationVerdict): Promise<void> {
    await this.redis.set(verdictKey(k), JSON.stringify(verdict), 'EX', IDEMPOTENCY_TTL_SECONDS);
  }
}
