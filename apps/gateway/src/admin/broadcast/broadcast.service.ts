import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { RedisLeases } from '@im/realtime';
import { BroadcastJobs, broadcastLeaseKey, BroadcastStatus } from './broadcast-jobs.store';
import { BroadcastRunner } from './broadcast-runner';

const RESUME_EVERY_MS = 5_000;

/**
 * A system message to many users, as a job that outlives the gateway that started it: the
 * job lives in Redis, one gateway at a time runs it under a lease, and every gateway looks
 * for running jobs whose lease lapsed (their gateway went away) and resumes them.
 */
@Injectable()
export class BroadcastService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('broadcast');
  private readonly active = new Set<string>();
  private stopping = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly jobs: BroadcastJobs,
    private readonly runner: BroadcastRunner,
    private readonly leases: RedisLeases,
  ) {}

  onApplicationBootstrap() {
    void this.jobs
      .adoptOldLayout()
      .catch((e) => this.logger.warn(`old broadcasts not adopted: ${String(e)}`));
    this.timer = setInterval(() => void this.resumeOrphans().catch(() => undefined), RESUME_EVERY_MS);
  }

  beforeApplicationShutdown() {
    this.stopping = true;
    clearInterval(this.timer);
  }

  async start(userIds: string[], body: Record<string, unknown>): Promise<string> {
    const id = randomUUID();
    await this.jobs.create(id, userIds, body);
    this.launch(id);
    return id;
  }

  status(id: string): Promise<BroadcastStatus | null> {
    return this.jobs.status(id);
  }

  private async resumeOrphans(): Promise<void> {
    for (const id of await this.jobs.runningIds()) {
      if (!this.active.has(id) && !(await this.leases.named(broadcastLeaseKey(id)).isHeld())) this.launch(id);
    }
  }

  private launch(id: string): void {
    if (this.active.has(id)) return;
    this.active.add(id);
    void this.runner
      .run(id, () => this.stopping)
      .catch((e) => this.logger.error(`broadcast ${id} paused: ${String(e)}`))
      .finally(() => this.active.delete(id));
  }
}
