import { BeforeApplicationShutdown, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { CursorsRepository, MessagesRepository } from '@im/database';
import { metrics } from '@im/metrics';
import { messageFrame, ServerFrame } from '@im/protocol';
import { RedisLease, RedisLeases } from '@im/realtime';
import { PeriodicRounds } from '../periodic-rounds';
import { DeviceRouter, DeviceTarget } from '../fan-out/device-router';
import {
  CatchUpState,
  CatchUpTask,
  cursorKey,
  OnlineDevice,
  planCatchUp,
  readRange,
  recordCoverage,
  takeFromPage,
} from './catch-up-plan';

const catchUpPushes = metrics.counter(
  'im_delivery_catch_up_pushes_total',
  'Messages pushed by the catch-up to online devices whose stored cursor was behind',
);
/** Messages this fresh are still on their normal way (push, re-push). */
const SETTLE_MS = 2000;
/** Messages stored this long before a device connected were in its sync. */
const SYNC_MARGIN_MS = 60_000;
const MAX_MEMBERSHIPS = 20_000;
const MAX_TASKS = 500;
const PAGE = 100;

/**
 * The safety net under push and re-push, which keep their state in Redis: a Redis flush or
 * restart loses pending re-pushes and, for a few seconds, presence, and a gateway's pub/sub
 * subscription misses what is published while it reconnects. Every few seconds one delivery
 * instance (a lease in Redis) compares the delivered cursors that PostgreSQL holds for online
 * devices with recently active conversations, and pushes what a device lacks, with the
 * re-push backoff. The device deduplicates by seq, so an extra push costs nothing else.
 */
@Injectable()
export class CatchUpWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly rounds: PeriodicRounds;
  private readonly lease: RedisLease;
  private state = new Map<string, CatchUpState>();

  constructor(
    leases: RedisLeases,
    private readonly cursors: CursorsRepository,
    private readonly messages: MessagesRepository,
    private readonly router: DeviceRouter,
    private readonly config: AppConfig,
  ) {
    // The client's key prefix makes it this deployment's lease.
    this.lease = leases.named('catchup:lease');
    this.rounds = new PeriodicRounds('catch-up', config.CATCH_UP_INTERVAL_MS, () => this.tick());
  }

  onApplicationBootstrap() {
    this.rounds.start();
  }

  async beforeApplicationShutdown() {
    await this.rounds.stop();
  }

  /** One round; returns how many messages were pushed (0 when another instance holds the lease). */
  async tick(now = Date.now()): Promise<number> {
    if (!(await this.lease.hold(this.config.CATCH_UP_INTERVAL_MS * 2))) {
      this.state.clear(); // the other instance keeps its own backoff
      return 0;
    }

    const memberships = await this.cursors.activeMemberships(
      this.config.CATCH_UP_WINDOW_SECONDS,
      MAX_MEMBERSHIPS,
    );
    const userIds = [...new Set(memberships.map((m) => m.userId))];
    const presence = await this.router.presence.devicesOf(userIds);
    const devicesOf = new Map<string, OnlineDevice[]>();
    for (const [userId, devices] of presence)
      devicesOf.set(
        userId,
        [...devices].map(([deviceId, p]) => ({
          userId,
          deviceId,
          connId: p.connId,
          connectedAt: p.connectedAt,
        })),
      );
    const online = userIds.filter((u) => (devicesOf.get(u)?.length ?? 0) > 0);
    const cursors = new Map<string, number>();
    for (const c of await this.cursors.deviceCursors(online))
      cursors.set(cursorKey(c.userId, c.deviceId, c.conversationId), c.deliveredSeq);

    const plan = planCatchUp({
      memberships,
      devicesOf,
      cursors,
      state: this.state,
      now,
      initialMs: this.config.REPUSH_INITIAL_MS,
      maxMs: this.config.REPUSH_MAX_MS,
      limit: MAX_TASKS,
    });
    this.state = plan.state;

    // One read per conversation, however many of its members' devices are behind; a device
    // the page did not reach (a lower cursor filled it) gets a read of its own.
    const byConversation = new Map<string, CatchUpTask[]>();
    for (const task of plan.tasks) {
      const list = byConversation.get(task.conversationId) ?? [];
      list.push(task);
      byConversation.set(task.conversationId, list);
    }
    const items: { target: DeviceTarget; frame: ServerFrame }[] = [];
    for (const [conversationId, conversationTasks] of byConversation) {
      let tasks = conversationTasks;
      while (tasks.length > 0) {
        const range = readRange(tasks, SYNC_MARGIN_MS);
        const page = await this.messages.storedBetween(
          conversationId,
          range.afterSeq,
          range.upTo,
          new Date(range.storedFrom),
          new Date(now - SETTLE_MS),
          PAGE,
        );
        const { pushes, rest } = takeFromPage(tasks, page, page.length === PAGE, SYNC_MARGIN_MS);
        for (const { task, rows, coveredTo } of pushes) {
          recordCoverage(this.state, task, coveredTo, now);
          const found = presence.get(task.device.userId)?.get(task.device.deviceId);
          if (!found) continue;
          const target = { userId: task.device.userId, deviceId: task.device.deviceId, presence: found };
          for (const { message } of rows) items.push({ target, frame: messageFrame(message) });
        }
        tasks = rest;
      }
    }
    if (items.length === 0) return 0;
    await this.router.send(items);
    catchUpPushes.inc({}, items.length);
    return items.length;
  }
}
