import type { Redis } from 'ioredis';

/** What a (conversation, sender, clientMsgId) was given the first time it was sequenced. */
export interface Assignment {
  seq: number;
  messageId: string;
  sentAt: number;
}

/** Kept well past the client's resend horizon (PROTOCOL §7: about 5 minutes). */
export const IDEMPOTENCY_TTL_SECONDS = 48 * 3600;

export const idempotencyKey = (conversationId: string, senderId: string, clientMsgId: string) =>
  // Ids cannot contain '|' (PROTOCOL §3), so the key is unambiguous.
  `idem:${conversationId}|${senderId}|${clientMsgId}`;

const encode = (a: Assignment) => `${a.seq}|${a.messageId}|${a.sentAt}`;
export const decodeAssignment = (value: string): Assignment => {
  const [seq, messageId, sentAt] = value.split('|');
  return { seq: Number(seq), messageId, sentAt: Number(sentAt) };
};

// SET NX, or the value that is already there: one round trip, no race.
const CLAIM_SCRIPT = `
local ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
if ok then return false end
return redis.call('GET', KEYS[1])`;

/**
 * The fast path of exactly-once sequencing. Redis remembers the assignment of every
 * clientMsgId; when Redis has forgotten (flush, restart), the unique constraint
 * (conversation_id, sender_id, client_msg_id) in PostgreSQL is the backstop: storage
 * answers a conflicting insert with the original seq and messageId.
 */
export class IdempotencyGuard {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds = IDEMPOTENCY_TTL_SECONDS,
  ) {}

  /** The earlier assignment of each key, or null. */
  async lookup(keys: string[]): Promise<(Assignment | null)[]> {
    if (keys.length === 0) return [];
    const values = await this.redis.mget(...keys);
    return values.map((v) => (v ? decodeAssignment(v) : null));
  }

  /**
   * Records each assignment unless the key already has one; returns, per entry, the
   * assignment that wins (the existing one if another sequencer got there first).
   */
  async claim(entries: { key: string; assignment: Assignment }[]): Promise<Assignment[]> {
    if (entries.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const e of entries) pipeline.eval(CLAIM_SCRIPT, 1, e.key, encode(e.assignment), this.ttlSeconds);
    const results = (await pipeline.exec()) ?? [];
    return entries.map((e, i) => {
      const [error, existing] = results[i] ?? [new Error('no reply'), null];
      if (error) throw error;
      return typeof existing === 'string' ? decodeAssignment(existing) : e.assignment;
    });
  }
}
