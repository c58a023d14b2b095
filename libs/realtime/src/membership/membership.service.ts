import { Inject, Injectable } from '@nestjs/common';
import type { RedisClient } from '../redis-client';
import { ConversationsRepository } from '@im/database';
import { metrics } from '@im/metrics';
import { REDIS } from '../redis.module';
import { execAll } from '../redis-pipeline';
import { batchOf } from '../slot-groups';
import { MembershipMemo } from './membership-memo';
import { membershipChannel } from './membership-channel';

const membersKey = (conversationId: string) => `members:${conversationId}`;
// Marks a loaded set, so that "no members" and "not cached" differ.
const LOADED = '#loaded'; // '#' is not allowed in ids
const TTL_SECONDS = 600;
/** A second invalidation this much later removes a stale set a racing reader wrote back. */
const SECOND_INVALIDATION_MS = 500;

const lookups = metrics.counter(
  'im_membership_lookups_total',
  'Membership lookups by where they were answered (memo: in process; redis: Redis or PostgreSQL)',
);

/**
 * Who belongs to a conversation: an in-process memo in front of Redis in front of PostgreSQL.
 * Changes go to PostgreSQL first, then drop the Redis set and tell every process (Redis
 * pub/sub, `MembershipInvalidations`) to drop its memo, so a removed member loses access at once.
 */
@Injectable()
export class MembershipService {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly conversations: ConversationsRepository,
    private readonly memo: MembershipMemo,
  ) {}

  async members(conversationId: string): Promise<readonly string[]> {
    const memoized = this.memo.get(conversationId, Date.now());
    if (memoized) {
      lookups.inc({ answeredBy: 'memo' });
      return memoized.list;
    }
    lookups.inc({ answeredBy: 'redis' });
    const since = this.memo.beginLoad();
    const ids = await this.load(conversationId);
    this.memo.store(conversationId, ids, since, Date.now());
    return ids;
  }

  async isMember(conversationId: string, userId: string): Promise<boolean> {
    const memoized = this.memo.get(conversationId, Date.now());
    if (memoized) {
      lookups.inc({ answeredBy: 'memo' });
      return memoized.set.has(userId);
    }
    // Without a trusted memo, two SISMEMBERs cost less than loading a large group's set.
    if (!this.memo.isTrusted) {
      lookups.inc({ answeredBy: 'redis' });
      const [isMember, loaded] = (await execAll(
        batchOf(this.redis)
          .sismember(membersKey(conversationId), userId)
          .sismember(membersKey(conversationId), LOADED),
      )) as number[];
      if (loaded === 1) return isMember === 1;
    }
    return (await this.members(conversationId)).includes(userId);
  }

  async invalidate(conversationId: string): Promise<void> {
    await this.dropEverywhere(conversationId);
    // A reader that loaded the old members just before the change may write them back after
    // our delete; a second round a moment later removes that stale copy.
    setTimeout(
      () => void this.dropEverywhere(conversationId).catch(() => undefined),
      SECOND_INVALIDATION_MS,
    ).unref();
  }

  private async dropEverywhere(conversationId: string): Promise<void> {
    await execAll(
      batchOf(this.redis)
        .del(membersKey(conversationId))
        .publish(membershipChannel(this.redis), conversationId),
    );
  }

  private async load(conversationId: string): Promise<string[]> {
    const cached = await this.redis.smembers(membersKey(conversationId));
    if (cached.length > 0) return cached.filter((m) => m !== LOADED);
    const ids = await this.conversations.memberIds(conversationId);
    await execAll(
      this.redis
        .multi()
        .sadd(membersKey(conversationId), LOADED, ...ids)
        .expire(membersKey(conversationId), TTL_SECONDS),
    );
    return ids;
  }
}
