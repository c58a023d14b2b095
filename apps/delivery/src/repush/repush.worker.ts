import { Injectable, OnApplicationBootstrap, BeforeApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { MessagesRepository } from '@im/database';
import { metrics } from '@im/metrics';
import { messageFrame, ServerFrame } from '@im/protocol';
import { MembershipService } from '@im/realtime';
import { PeriodicRounds } from '../periodic-rounds';
import { DeviceRouter, DeviceTarget } from '../fan-out/device-router';
import { SignalBacklog } from '../signals/signal-backlog';
import { DeliveredCursorStore } from './delivered-cursor.store';
import { PendingPushes } from './pending-pushes';
import { PendingPush, repushDelay } from './repush-schedule';

const repushes = metrics.counter(
  'im_delivery_repushes_total',
  'Messages pushed again for want of a deliver_ack',
);
const deferred = metrics.counter(
  'im_delivery_repush_rounds_deferred_total',
  'Re-push rounds skipped because the deliver_acks they would act on were still queued',
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
    private readonly deliveredCursors: DeliveredCursorStore,
    private readonly router: DeviceRouter,
    private readonly messages: MessagesRepository,
    private readonly membership: MembershipService,
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
    // Acks waiting in the signal backlog would make these pushes repeats; they stay due.
    if (this.backlog.isBehind(now) && now - this.lastRoundAt < MAX_DEFER_MS) {
      deferred.inc();
      return 0;
    }
    this.lastRoundAt = now;
    const due = this.pending.takeDue(now, BATCH);
    if (due.length === 0) return 0;
    try {
      return await this.repush(due, now);
    } catch (error) {
      // They left memory when taken: a failed round (Redis or PostgreSQL away) keeps them due.
      for (const push of due) this.pending.add(push, now + this.config.REPUSH_INITIAL_MS);
      throw error;
    }
  }

  private async repush(due: PendingPush[], now: number): Promise<number> {
    // Acks another delivery instance handled are only in Redis.
    const cursors = await this.deliveredCursors.deliveredCursors(due);
    const owed = due
      .map((push, i) => ({ push, cursor: cursors[i] }))
      .filter(({ push, cursor }) => cursor < push.seq);
    const presence = await this.router.presence.devicesOf([...new Set(owed.map(({ push }) => push.userId))]);

    const items: { target: DeviceTarget; frame: ServerFrame }[] = [];
    const again: { push: PendingPush; dueAt: number }[] = [];
    for (const { push, cursor } of owed) {
      const current = presence.get(push.userId)?.get(push.deviceId);
      // Gone, or reconnected (a new connection syncs from its cursor): nothing more to do.
      if (!current || current.connId !== push.connId) continue;
      // A member removed since the push has lost access to the conversation.
      if (!(await this.membership.isMember(push.conversationId, push.userId))) continue;
      const from = Math.max(cursor, push.fromSeq - 1);
      // An entry whose range is already covered (or malformed) must not fail the whole round.
      if (push.seq <= from) continue;
      const page = await this.messages.after(push.conversationId, from, Math.min(push.seq - from, 200));
      for (const m of page.messages) {
        if (m.seq > push.seq) break;
        items.push({
          target: { userId: push.userId, deviceId: push.deviceId, presence: current },
          frame: messageFrame(m),
        });
      }
      const next = { ...push, attempt: push.attempt + 1 };
      const delay = repushDelay(next.attempt, this.config.REPUSH_INITIAL_MS, this.config.REPUSH_MAX_MS);
      again.push({ push: next, dueAt: now + delay });
    }
    await this.router.send(items);
    for (const { push, dueAt } of again) this.pending.add(push, dueAt);
    repushes.inc({}, items.length);
    return items.length;
  }
}
