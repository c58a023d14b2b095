import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '@im/config';
import { ConversationsRepository, UsersRepository } from '@im/database';
import { SYSTEM_USER_ID } from '@im/protocol';
import { execAll, REDIS } from '@im/realtime';
import { TokenBucket } from '../limits/rate-limit';
import { SystemMessagesService } from './system-messages.service';

export interface BroadcastStatus {
  id: string;
  state: 'running' | 'done';
  total: number;
  sent: number;
  failed: number;
}

// Job ids are UUIDs; the running set is namespaced per deployment (its Kafka topic prefix),
// so that two deployments sharing a Redis never resume each other's jobs.
const key = (id: string) => `broadcast:${id}`;
const doneKey = (id: string) => `broadcast:${id}:done`;
const failedKey = (id: string) => `broadcast:${id}:failed`;
const leaseKey = (id: string) => `broadcast:${id}:lease`;
const KEEP_SECONDS = 7 * 24 * 3600;
const LEASE_SECONDS = 15;
/** Few at a time and at a capped rate, so that live traffic keeps its latency. */
const CONCURRENCY = 4;

/**
 * A system message to each user's direct conversation with `system`. The job lives in Redis
 * (users, body, who is done) and is leased by one gateway at a time: if that gateway stops,
 * another (or the same after a restart) resumes it. Each user's message has the clientMsgId
 * `broadcast-<id>`, so a user handled twice across a resume still gets one message.
 */
@Injectable()
export class BroadcastService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('broadcast');
  private readonly active = new Set<string>();
  private stopping = false;
  private readonly running: string;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly users: UsersRepository,
    private readonly conversations: ConversationsRepository,
    private readonly systemMessages: SystemMessagesService,
    private readonly config: AppConfig,
  ) {
    this.running = `broadcasts:running:${config.KAFKA_TOPIC_PREFIX}`;
  }

  onApplicationBootstrap() {
    // Pick up jobs whose gateway went away.
    this.timer = setInterval(() => void this.resumeOrphans().catch(() => undefined), 5000);
  }

  beforeApplicationShutdown() {
    this.stopping = true;
    clearInterval(this.timer);
  }

  async start(userIds: string[], body: Record<string, unknown>): Promise<string> {
    const id = randomUUID();
    await execAll(
      this.redis
        .multi()
        .hset(key(id), {
          state: 'running',
          total: userIds.length,
          users: JSON.stringify(userIds),
          body: JSON.stringify(body),
        })
        .expire(key(id), KEEP_SECONDS)
        .sadd(this.running, id),
    );
    this.launch(id);
    return id;
  }

  async status(id: string): Promise<BroadcastStatus | null> {
    const [job, sent, failed] = await Promise.all([
      this.redis.hgetall(key(id)),
      this.redis.scard(doneKey(id)),
      this.redis.scard(failedKey(id)),
    ]);
    if (!job.state) return null;
    return { id, state: job.state as BroadcastStatus['state'], total: Number(job.total), sent, failed };
  }

  private async resumeOrphans(): Promise<void> {
    for (const id of await this.redis.smembers(this.running)) {
      if (!this.active.has(id) && !(await this.redis.exists(leaseKey(id)))) this.launch(id);
    }
  }

  private launch(id: string): void {
    if (this.active.has(id)) return;
    this.active.add(id);
    void this.run(id)
      .catch((e) => this.logger.error(`broadcast ${id} paused: ${String(e)}`))
      .finally(() => this.active.delete(id));
  }

  private async run(id: string): Promise<void> {
    const owner = this.config.INSTANCE_ID;
    if ((await this.redis.set(leaseKey(id), owner, 'EX', LEASE_SECONDS, 'NX')) !== 'OK') return;
    const renew = setInterval(
      () => void this.redis.expire(leaseKey(id), LEASE_SECONDS).catch(() => undefined),
      5000,
    );
    try {
      const job = await this.redis.hgetall(key(id));
      if (job.state !== 'running') return;
      const userIds = JSON.parse(job.users) as string[];
      const body = JSON.parse(job.body) as Record<string, unknown>;
      const done = new Set([
        ...(await this.redis.smembers(doneKey(id))),
        ...(await this.redis.smembers(failedKey(id))),
      ]);
      const todo = userIds.filter((u) => !done.has(u));
      const missing = new Set(await this.users.missing(todo));
      const pace = new TokenBucket(this.config.BROADCAST_RATE_PER_SEC, CONCURRENCY, Date.now());
      let next = 0;
      const worker = async () => {
        while (next < todo.length && !this.stopping) {
          while (!pace.take(Date.now())) await new Promise((r) => setTimeout(r, 20));
          const userId = todo[next++];
          await this.deliver(id, userId, body, missing.has(userId) || userId === SYSTEM_USER_ID);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      if (this.stopping) return;
      await execAll(
        this.redis
          .multi()
          .hset(key(id), 'state', 'done')
          .srem(this.running, id)
          .expire(doneKey(id), KEEP_SECONDS)
          .expire(failedKey(id), KEEP_SECONDS),
      );
    } finally {
      clearInterval(renew);
      await this.redis.del(leaseKey(id)).catch(() => undefined);
    }
  }

  private async deliver(id: string, userId: string, body: Record<string, unknown>, unknownUser: boolean) {
    try {
      if (unknownUser) throw new Error(`unknown user ${userId}`);
      const { conversation } = await this.conversations.findOrCreateDirect(
        randomUUID(),
        SYSTEM_USER_ID,
        userId,
        null,
      );
      await this.systemMessages.post(conversation.id, `broadcast-${id}`, body);
      await this.redis.sadd(doneKey(id), userId);
    } catch (error) {
      this.logger.warn(`broadcast ${id} to ${userId} failed: ${String(error)}`);
      // Unknown users fail for good; anything else is retried when the job resumes.
      if (unknownUser) await this.redis.sadd(failedKey(id), userId);
      else throw error;
    }
  }
}
