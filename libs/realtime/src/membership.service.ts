import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ConversationsRepository } from '@im/database';
import { REDIS } from './redis.module';
import { execAll } from './redis-pipeline';

const membersKey = (conversationId: string) => `members:${conversationId}`;
// Marks a loaded set, so that "no members" and "not cached" differ.
const LOADED = '#loaded'; // '#' is not allowed in ids
const TTL_SECONDS = 600;

/**
 * Who belongs to a conversation: Redis in front of PostgreSQL. Changes go to PostgreSQL
 * first and then drop the cached set, so a removed member loses access at once.
 */
@Injectable()
export class MembershipService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly conversations: ConversationsRepository,
  ) {}

  async members(conversationId: string): Promise<string[]> {
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

  async isMember(conversationId: string, userId: string): Promise<boolean> {
    const [isMember, loaded] = (await execAll(
      this.redis
        .pipeline()
        .sismember(membersKey(conversationId), userId)
        .sismember(membersKey(conversationId), LOADED),
    )) as number[];
    if (loaded === 1) return isMember === 1;
    return (await this.members(conversationId)).includes(userId);
  }

  async invalidate(conversationId: string): Promise<void> {
    await this.redis.del(membersKey(conversationId));
    // A reader that loaded the old members just before the change may write them back after
    // our delete; a second delete a moment later removes that stale copy.
    setTimeout(() => void this.redis.del(membersKey(conversationId)).catch(() => undefined), 500).unref();
  }
}
