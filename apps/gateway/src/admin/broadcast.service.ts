import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ConversationsRepository, UsersRepository } from '@im/database';
import { SYSTEM_USER_ID } from '@im/protocol';
import { REDIS } from '@im/realtime';
import { SystemMessagesService } from './system-messages.service';

export interface BroadcastStatus {
  id: string;
  state: 'running' | 'done';
  total: number;
  sent: number;
  failed: number;
}

const key = (id: string) => `broadcast:${id}`;
const STATUS_TTL_SECONDS = 7 * 24 * 3600;
/** Few at a time, so that live traffic keeps its latency. */
const CONCURRENCY = 4;

/** A system message to each user's direct conversation with `system`, with progress in Redis. */
@Injectable()
export class BroadcastService {
  private readonly logger = new Logger('broadcast');

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly users: UsersRepository,
    private readonly conversations: ConversationsRepository,
    private readonly systemMessages: SystemMessagesService,
  ) {}

  async start(userIds: string[], body: Record<string, unknown>): Promise<string> {
    const id = randomUUID();
    await this.redis
      .multi()
      .hset(key(id), { state: 'running', total: userIds.length, sent: 0, failed: 0 })
      .expire(key(id), STATUS_TTL_SECONDS)
      .exec();
    void this.run(id, userIds, body).catch((e) => this.logger.error(`broadcast ${id} stopped: ${String(e)}`));
    return id;
  }

  async status(id: string): Promise<BroadcastStatus | null> {
    const h = await this.redis.hgetall(key(id));
    if (!h.state) return null;
    return {
      id,
      state: h.state as BroadcastStatus['state'],
      total: Number(h.total),
      sent: Number(h.sent),
      failed: Number(h.failed),
    };
  }

  private async run(id: string, userIds: string[], body: Record<string, unknown>): Promise<void> {
    const missing = new Set(await this.users.missing(userIds));
    let next = 0;
    const worker = async () => {
      while (next < userIds.length) {
        const userId = userIds[next++];
        try {
          if (missing.has(userId) || userId === SYSTEM_USER_ID) throw new Error(`unknown user ${userId}`);
          const { conversation } = await this.conversations.findOrCreateDirect(
            randomUUID(),
            SYSTEM_USER_ID,
            userId,
            null,
          );
          // The broadcast id as clientMsgId makes a retried delivery idempotent.
          await this.systemMessages.post(conversation.id, `broadcast-${id}`, body);
          await this.redis.hincrby(key(id), 'sent', 1);
        } catch (error) {
          this.logger.warn(`broadcast ${id} to ${userId} failed: ${String(error)}`);
          await this.redis.hincrby(key(id), 'failed', 1);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await this.redis.hset(key(id), 'state', 'done');
  }
}
