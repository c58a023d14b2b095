import { Injectable } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { MessagesRepository } from '@im/database';
import { metrics } from '@im/metrics';
import { messageFrame, ServerFrame } from '@im/protocol';
import { MembershipService } from '@im/realtime';
import { DeviceRouter, DeviceTarget } from '../fan-out/device-router';
import { DeliveredCursorStore } from './delivered-cursor.store';
import { PendingPush, repushDelay } from './repush-schedule';

const repushes = metrics.counter(
  'im_delivery_repushes_total',
  'Messages pushed again for want of a deliver_ack',
);

export interface RepushRound {
  pushed: number;
  /** The entries still owed, each with its next attempt's time. */
  again: { push: PendingPush; dueAt: number }[];
}

/**
 * One round of re-push over the entries that fell due: what the device acknowledged through
 * another instance is read from Redis; a device that is gone, reconnected or no longer a
 * member is dropped (sync takes over); the rest get their messages again and a later attempt.
 */
@Injectable()
export class RepushRoundUseCase {
  constructor(
    private readonly deliveredCursors: DeliveredCursorStore,
    private readonly router: DeviceRouter,
    private readonly messages: MessagesRepository,
    private readonly membership: MembershipService,
    private readonly config: AppConfig,
  ) {}

  /** Pushes again what is still owed of `due`; returns how many messages went out and the entries to keep. */
  async execute(due: PendingPush[], now: number): Promise<RepushRound> {
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
      const owedRows = page.messages.filter((m) => m.seq <= push.seq);
      // Nothing of the range is stored any more (retention deleted it): there is nothing to
      // wait for, and the device could never acknowledge a seq it will not get.
      if (owedRows.length === 0) continue;
      for (const m of owedRows)
        items.push({
          target: { userId: push.userId, deviceId: push.deviceId, presence: current },
          frame: messageFrame(m),
        });
      const next = { ...push, attempt: push.attempt + 1 };
      const delay = repushDelay(next.attempt, this.config.REPUSH_INITIAL_MS, this.config.REPUSH_MAX_MS);
      again.push({ push: next, dueAt: now + delay });
    }
    await this.router.send(items);
    repushes.inc({}, items.length);
    return { pushed: items.length, again };
  }
}
