import { Injectable, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { PeriodicRounds } from '../periodic-rounds';
import { SignalBacklog } from '../signals/signal-backlog';
import { PendingPushes } from './pending-pushes';
import { RepushRoundUseCase } from './repush-round.usecase';

const deferred = metrics.counter(
  'im_delivery_repush_rounds_deferred_total',
  'Re-push rounds skipped because the deliver_acks they would act on were still queued',
);
const pendingGauge = metrics.gauge(
  'im_delivery_pending_pushes',
  'Device-and-conversation entries waiting for a deliver_ack in this instance (the re-push backlog)',
);
const TICK_MS = 200;
/** However far behind the signals are, a round runs at least this often (G5 must not wait for load to drop). */
const MAX_DEFER_MS = 5_000;
const BATCH = 500;

/**
 * Pushes again what a device has not acknowledged, with backoff, until its deliver_ack
 * covers it or the connection that should have acknowledged is gone.
 */
@Injectable()
export class RepushWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly rounds = new PeriodicRounds('re-push', TICK_MS, () => this.tick());
  private lastRoundAt = Date.now();

  constructor(
    private readonly pending: PendingPushes,
    private readonly round: RepushRoundUseCase,
    private readonly config: AppConfig,
    private readonly backlog: SignalBacklog,
  ) {}

  onApplicationBootstrap() {
    this.rounds.start();
  }

  async beforeApplicationShutdown() {
    await this.rounds.stop();
  }

  /** One round: returns how many pushes were sent again. */
  async tick(now = Date.now()): Promise<number> {
    pendingGauge.set({}, this.pending.size);
    // Acks waiting in the signal backlog would make these pushes repeats; they stay due.
    if (this.backlog.isBehind(now) && now - this.lastRoundAt < MAX_DEFER_MS) {
      deferred.inc();
      return 0;
    }
    this.lastRoundAt = now;
    const due = this.pending.takeDue(now, BATCH);
    if (due.length === 0) return 0;
    try {
      const { pushed, again } = await this.round.execute(due, now);
      for (const { push, dueAt } of again) this.pending.add(push, dueAt);
      return pushed;
    } catch (error) {
      // They left memory when taken: a failed round (Redis or PostgreSQL away) keeps them due.
      for (const push of due) this.pending.add(push, now + this.config.REPUSH_INITIAL_MS);
      throw error;
    }
  }
}
