import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { execAll, REDIS, type RedisClient } from '@im/realtime';

export interface BroadcastStatus {
  id: string;
  state: 'running' | 'done';
  total: number;
  sent: number;
  failed: number;
}

export interface BroadcastJob {
  userIds: string[];
  body: Record<string, unknown>;
  /** Users handled already (sent, or failed for good): a resumed job skips them. */
  handled: Set<string>;
}

// Keys carry the client's prefix, which is this deployment's: two deployments sharing a Redis
// never see, let alone resume, each other's jobs. A job's keys share the {id} hash tag (one
// Redis Cluster slot, so one MULTI); the running set is in another slot, written on its own.
const key = (id: string) => `broadcast:{${id}}`;
const doneKey = (id: string) => `broadcast:{${id}}:done`;
const failedKey = (id: string) => `broadcast:{${id}}:failed`;
const RUNNING = 'broadcasts:running';
/** Held by the gateway that runs the job. */
export const broadcastLeaseKey = (id: string) => `broadcast:{${id}}:lease`;
const KEEP_SECONDS = 7 * 24 * 3600;

/** Broadcast jobs in Redis: the job, who is done, who failed for good, and which jobs run. */
@Injectable()
export class BroadcastJobs {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly config: AppConfig,
  ) {}

  async create(id: string, userIds: string[], body: Record<string, unknown>): Promise<void> {
    await execAll(
      this.redis
        .multi()
        .hset(key(id), {
          state: 'running',
          total: userIds.length,
          users: JSON.stringify(userIds),
          body: JSON.stringify(body),
        })
        .expire(key(id), KEEP_SECONDS),
    );
    // Listed after the job exists: a crash in between leaves a job nobody resumes, whose
    // creation the caller saw fail; never a listed id without its job.
    await this.redis.sadd(RUNNING, id);
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

  /** A running job as it stands, or null when it finished (or expired). */
  async running(id: string): Promise<BroadcastJob | null> {
    const job = await this.redis.hgetall(key(id));
    if (job.state !== 'running') return null;
    const [done, failed] = await Promise.all([
      this.redis.smembers(doneKey(id)),
      this.redis.smembers(failedKey(id)),
    ]);
    return {
      userIds: JSON.parse(job.users) as string[],
      body: JSON.parse(job.body) as Record<string, unknown>,
      handled: new Set([...done, ...failed]),
    };
  }

  async runningIds(): Promise<string[]> {
    return this.redis.smembers(RUNNING);
  }

  async markSent(id: string, userId: string): Promise<void> {
    await this.redis.sadd(doneKey(id), userId);
  }

  async markFailed(id: string, userId: string): Promise<void> {
    await this.redis.sadd(failedKey(id), userId);
  }

  async finish(id: string): Promise<void> {
    await execAll(
      this.redis
        .multi()
        .hset(key(id), 'state', 'done')
        .expire(doneKey(id), KEEP_SECONDS)
        .expire(failedKey(id), KEEP_SECONDS),
    );
    // A crash before this leaves a done job listed; resuming skips it (running() is null).
    await this.redis.srem(RUNNING, id);
  }

  /**
   * Moves what older versions wrote, so an upgrade resumes their jobs: until 2026-12-05 the
   * running set was named with the topic prefix on top of the client's key prefix, and until
   * 2026-12-06 a job's keys had no {id} hash tag.
   */
  async adoptOldLayout(): Promise<void> {
    const old = `broadcasts:running:${this.config.KAFKA_TOPIC_PREFIX}`;
    const ids = await this.redis.smembers(old);
    // Two slots on a Redis Cluster: added first, so a crash in between loses no job.
    if (ids.length > 0) {
      await this.redis.sadd(RUNNING, ...ids);
      await this.redis.del(old);
    }
    for (const id of await this.runningIds()) await this.adoptUntagged(id);
  }

  private async adoptUntagged(id: string): Promise<void> {
    const untagged = `broadcast:${id}`;
    const job = await this.redis.hgetall(untagged);
    if (!job.state || (await this.redis.exists(key(id))) === 1) return;
    const [done, failed] = await Promise.all([
      this.redis.smembers(`${untagged}:done`),
      this.redis.smembers(`${untagged}:failed`),
    ]);
    const copy = this.redis.multi().hset(key(id), job).expire(key(id), KEEP_SECONDS);
    if (done.length > 0) copy.sadd(doneKey(id), ...done);
    if (failed.length > 0) copy.sadd(failedKey(id), ...failed);
    await execAll(copy);
    await this.redis.del(untagged, `${untagged}:done`, `${untagged}:failed`);
  }
}
