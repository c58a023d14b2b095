import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { ConversationsRepository, UsersRepository } from '@im/database';
import { SYSTEM_USER_ID } from '@im/protocol';
import { RedisLeases } from '@im/realtime';
import { TokenBucket } from '../../limits/rate-limit';
import { SystemMessagesService } from '../system-messages.service';
import { BroadcastJobs, broadcastLeaseKey } from './broadcast-jobs.store';

const LEASE_MS = 15_000;
const RENEW_MS = 5_000;
/** Few at a time and at a capped rate, so that live traffic keeps its latency. */
const CONCURRENCY = 4;

/** A user the job cannot reach, ever (refused for good, not retried). */
class UnknownUserError extends Error {}

/**
 * Runs one broadcast job while holding its lease: the users not handled yet, a few at a time
 * at BROADCAST_RATE_PER_SEC, each a system message in their direct conversation with
 * `system` under the clientMsgId `broadcast-<id>` (so a user handled twice across a resume
 * still gets one message). Stops between users when told to.
 */
@Injectable()
export class BroadcastRunner {
  private readonly logger = new Logger('broadcast');

  constructor(
    private readonly jobs: BroadcastJobs,
    private readonly leases: RedisLeases,
    private readonly users: UsersRepository,
    private readonly conversations: ConversationsRepository,
    private readonly systemMessages: SystemMessagesService,
    private readonly config: AppConfig,
  ) {}

  /** Resolves when the job is done, stopped, or held by another gateway. */
  async run(id: string, stopping: () => boolean): Promise<void> {
    const lease = this.leases.named(broadcastLeaseKey(id));
    if (!(await lease.hold(LEASE_MS))) return;
    const renew = setInterval(() => void lease.hold(LEASE_MS).catch(() => undefined), RENEW_MS);
    try {
      const job = await this.jobs.running(id);
      if (!job) return;
      const todo = job.userIds.filter((u) => !job.handled.has(u));
      const unknown = new Set(await this.users.missing(todo));
      unknown.add(SYSTEM_USER_ID);
      const pace = new TokenBucket(this.config.BROADCAST_RATE_PER_SEC, CONCURRENCY, Date.now());
      let next = 0;
      // A failure stops every worker: the run ends (and frees its lease) only once none posts.
      let failure: { error: unknown } | undefined;
      const more = () => next < todo.length && !stopping() && !failure;
      const worker = async () => {
        while (more()) {
          while (!pace.take(Date.now())) await new Promise((r) => setTimeout(r, 20));
          // Another worker may have taken the last user, or the run stopped, during the wait.
          if (!more()) return;
          const userId = todo[next++];
          await this.deliver(id, userId, job.body, unknown.has(userId)).catch((error: unknown) => {
            failure ??= { error };
          });
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      if (failure) throw failure.error;
      if (!stopping()) await this.jobs.finish(id);
    } finally {
      clearInterval(renew);
      await lease.release().catch(() => undefined);
    }
  }

  private async deliver(id: string, userId: string, body: Record<string, unknown>, unknownUser: boolean) {
    try {
      if (unknownUser) throw new UnknownUserError(`unknown user ${userId}`);
      const { conversation } = await this.conversations.findOrCreateDirect(
        randomUUID(),
        SYSTEM_USER_ID,
        userId,
        null,
      );
      await this.systemMessages.post(conversation.id, `broadcast-${id}`, body);
      await this.jobs.markSent(id, userId);
    } catch (error) {
      this.logger.warn(`broadcast ${id} to ${userId} failed: ${String(error)}`);
      // Unknown users fail for good; anything else is retried when the job resumes.
      if (error instanceof UnknownUserError) await this.jobs.markFailed(id, userId);
      else throw error;
    }
  }
}
