import type { Logger } from '@nestjs/common';
import { ConsumerWatchdog } from './consumer-watchdog';
import { retryUntil } from './retry-until';

/** What a Kafka client adapter does for its supervisor. */
export interface GroupMember {
  /** One attempt to join the group and start fetching. */
  join(): Promise<void>;
  /** Cleans up after a join that failed, before the next attempt. */
  abandon(): Promise<void>;
  /** Leaves the group so that a fresh member can join in its place. */
  leave(): Promise<void>;
}

/** What a running member does on timers. */
export interface MemberChores {
  /** Commits what is durable (every 500 ms, never per batch). */
  commit: () => Promise<void>;
  /** Replaces the member if it is stuck (every 5 s). */
  checkStalled: () => unknown;
  /** Anything else the client needs, on its own interval. */
  more?: { everyMs: number; run: () => unknown }[];
}

/** How long a start waits for the broker: topics just created by another service may have no leader yet. */
const START_PATIENCE_MS = 120_000;
const RESTART_RETRY_MS = 5_000;
const COMMIT_INTERVAL_MS = 500;
const WATCHDOG_TICK_MS = 5_000;
/** Silence after which a consumer is suspected stuck: above the 20 s rebalance timeout. */
export const STALL_LIMIT_MS = 30_000;

/**
 * The group lifecycle both Kafka client adapters share: start with retries, the periodic
 * chores, one restart at a time (retried until it works), and stop. The adapters keep what
 * differs: how a member joins, leaves and decides it is stuck.
 */
export class ConsumerSupervisor {
  readonly watchdog = new ConsumerWatchdog(STALL_LIMIT_MS, Date.now());
  private restarting = false;
  private stopped = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly member: GroupMember,
    private readonly logger: Logger,
    private readonly chores: MemberChores,
  ) {}

  /** Joins, retrying until `deadline`; the chores start with the first successful join. */
  async start(deadline = Date.now() + START_PATIENCE_MS): Promise<void> {
    await retryUntil(
      deadline,
      () => this.member.join(),
      async (error, attempt) => {
        this.logger.warn(`could not start consuming (attempt ${attempt}): ${String(error)}; retrying`);
        await this.member.abandon();
      },
    );
    this.watchdog.activity(Date.now());
    if (this.timers.length > 0 || this.stopped) return;
    const { commit, checkStalled, more = [] } = this.chores;
    const every = [
      { everyMs: COMMIT_INTERVAL_MS, run: commit },
      { everyMs: WATCHDOG_TICK_MS, run: checkStalled },
      ...more,
    ];
    for (const chore of every) this.timers.push(setInterval(() => void chore.run(), chore.everyMs));
  }

  /** A restart is in progress: the stall check waits for it. */
  isRestarting(): boolean {
    return this.restarting;
  }

  /** Replaces the member; a failed restart is tried again until stop(). */
  async restart(why: string): Promise<void> {
    if (this.stopped || this.restarting) return;
    this.restarting = true;
    this.logger.warn(`restarting the consumer ${why}`);
    try {
      await this.member.leave();
      await this.start();
    } catch (error) {
      this.logger.error(`consumer restart failed: ${String(error)}; trying again`);
      setTimeout(() => void this.restart(why), RESTART_RETRY_MS);
    } finally {
      this.restarting = false;
      this.watchdog.activity(Date.now());
    }
  }

  /** Nothing restarts the member and no chore runs any more; the adapter then leaves for good. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }
}
