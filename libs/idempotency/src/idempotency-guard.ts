import { execAll, getMany, groupBySlot, isCluster, type RedisClient } from '@im/realtime';
import { CLAIM_SCRIPT } from './claim-script';

/** What a (conversation, sender, clientMsgId) was given the first time it was sequenced. */
export interface Assignment {
  seq: number;
  messageId: string;
  sentAt: number;
}

/** Kept well past the client's resend horizon (docs/protocol.md §7: about 5 minutes). */
export const IDEMPOTENCY_TTL_SECONDS = 48 * 3600;

/**
 * How long a conversation's high-water seq is remembered after its last message. When it has
 * expired (or Redis lost it), the next claim asks for a fresh block: a gap, never a reorder.
 */
export const HIGH_WATER_TTL_SECONDS = 30 * 24 * 3600;

export const idempotencyKey = (conversationId: string, senderId: string, clientMsgId: string) =>
  // Ids cannot contain '|' (docs/protocol.md §3), so the key is unambiguous.
  // The {conversation} hash tag puts a conversation's keys in one Redis Cluster slot, so one
  // claim script can fence them together.
  `idem:{${conversationId}}|${senderId}|${clientMsgId}`;

export const highWaterKey = (conversationId: string) => `seqhw:{${conversationId}}`;

const encode = (a: Assignment) => `${a.seq}|${a.messageId}|${a.sentAt}`;
export const decodeAssignment = (value: string): Assignment => {
  const [seq, messageId, sentAt] = value.split('|');
  return { seq: Number(seq), messageId, sentAt: Number(sentAt) };
};

/** One conversation's part of a claim. */
export interface ConversationClaim {
  conversationId: string;
  /**
   * True when every block these seqs come from was reserved after this conversation's
   * high-water mark was found missing (or is the conversation's first block ever), so they
   * are above every seq any instance handed out before.
   */
  freshBlock: boolean;
  entries: { key: string; assignment: Assignment }[];
}

export interface ClaimResult {
  /** Per key of the conversations that were not fenced: the assignment that wins. */
  winners: Map<string, Assignment>;
  /** Conversations for which nothing was written: they need a new block (see `claim`). */
  fenced: Set<string>;
}

/**
 * The fast path of exactly-once sequencing, and the fence that keeps seqs in claim order.
 *
 * Redis remembers the assignment of every clientMsgId; when Redis has forgotten (flush,
 * restart), the unique constraint (conversation_id, sender_id, client_msg_id) in PostgreSQL
 * is the backstop: storage answers a conflicting insert with the original seq and messageId.
 *
 * During a rebalance two sequencers can briefly work on one conversation, each from its own
 * block. Each conversation's high-water mark (the highest seq claimed) makes sure a claim only
 * ever hands out seqs above everything claimed before, so a connection's later message can
 * never get the lower seq (found by the chaos suite when claims were per key).
 */
export class IdempotencyGuard {
  constructor(
    private readonly redis: RedisClient,
    private readonly ttlSeconds = IDEMPOTENCY_TTL_SECONDS,
    private readonly highWaterTtlSeconds = HIGH_WATER_TTL_SECONDS,
  ) {}

  /** The earlier assignment of each key, or null. */
  async lookup(keys: string[]): Promise<(Assignment | null)[]> {
    const values = await getMany(this.redis, keys);
    return values.map((v) => (v ? decodeAssignment(v) : null));
  }

  /**
   * Records each assignment unless its key already has one, atomically per conversation.
   * The winners are the existing assignments where another sequencer got there first, ours
   * elsewhere. A conversation whose new seqs are not above its high-water mark (another
   * instance moved on), or whose mark is missing while its block is not fresh, is fenced:
   * nothing of it is written, and it must be numbered again from a new block.
   *
   * One script call on a single server. On a Redis Cluster one call per slot (a conversation's
   * keys share its slot), in parallel: the fence is per conversation, so splitting loses nothing.
   */
  async claim(conversations: ConversationClaim[]): Promise<ClaimResult> {
    const claims = conversations.filter((c) => c.entries.length > 0);
    const winners = new Map<string, Assignment>();
    const fenced = new Set<string>();
    const groups = groupBySlot(this.redis, claims, (c) => highWaterKey(c.conversationId));
    const replies = await Promise.all(groups.map((group) => this.claimInOneSlot(group)));
    groups.forEach((group, g) => readClaimReply(group, replies[g], winners, fenced));
    return { winners, fenced };
  }

  private async claimInOneSlot(claims: ConversationClaim[]): Promise<(number | string)[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.ttlSeconds, this.highWaterTtlSeconds, claims.length];
    for (const c of claims) {
      keys.push(highWaterKey(c.conversationId));
      args.push(c.entries.length, c.freshBlock ? '1' : '0');
      for (const e of c.entries) {
        keys.push(e.key);
        args.push(encode(e.assignment), e.assignment.seq);
      }
    }
    if (!isCluster(this.redis))
      return (await CLAIM_SCRIPT.run(this.redis, keys.length, ...keys, ...args)) as (number | string)[];
    // A cluster's replica is written asynchronously: a master killed right after the claim
    // could hand its slots to a replica with an older high-water mark, and a fence that forgot
    // a claim can let a stale block through. WAIT, sent on the same connection right behind
    // the script, holds the answer until a replica has the claim (or the timeout passes, when
    // no replica is in sync: then a failover has no up-to-date replica to promote either).
    CLAIM_SCRIPT.define(this.redis);
    const pipeline = this.redis.pipeline();
    CLAIM_SCRIPT.queue(pipeline, keys.length, ...keys, ...args);
    pipeline.wait(1, REPLICA_WAIT_MS);
    const [reply] = await execAll(pipeline);
    return reply as (number | string)[];
  }
}

/** How long a claim on a Redis Cluster waits for a replica to have it. */
const REPLICA_WAIT_MS = 500;

/** Reads one script call's reply into the claim's winners and fenced conversations. */
function readClaimReply(
  claims: ConversationClaim[],
  reply: (number | string)[],
  winners: Map<string, Assignment>,
  fenced: Set<string>,
): void {
  const fencedHere = new Set<string>();
  const fencedCount = Number(reply[0]);
  for (let i = 1; i <= fencedCount; i++) fencedHere.add(claims[Number(reply[i]) - 1].conversationId);
  let next = fencedCount + 1;
  for (const c of claims) {
    if (fencedHere.has(c.conversationId)) {
      fenced.add(c.conversationId);
      continue;
    }
    for (const e of c.entries) {
      const existing = reply[next++];
      winners.set(
        e.key,
        typeof existing === 'string' && existing !== '' ? decodeAssignment(existing) : e.assignment,
      );
    }
  }
}
