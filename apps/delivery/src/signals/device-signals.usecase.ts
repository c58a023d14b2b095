import { Injectable } from '@nestjs/common';
import { CursorsRepository } from '@im/database';
import { DeviceSignal } from '@im/messaging';
import { ServerFrame } from '@im/protocol';
import { MembershipService } from '@im/realtime';
import { DeviceRouter, DeviceTarget } from '../fan-out/device-router';
import { DeliveredCursorStore } from '../repush/delivered-cursor.store';
import { PendingPushes } from '../repush/pending-pushes';
import { Notice, planReceipt } from './receipt-plan';
import { SignalBacklog } from './signal-backlog';

type CursorSignal = Extract<DeviceSignal, { kind: 'deliver_ack' | 'read' }>;
type TypingSignal = Extract<DeviceSignal, { kind: 'typing' }>;

/**
 * deliver_ack, read and typing, a batch at a time: cursors move (never backwards) in one
 * statement per kind and one Redis pipeline, then the receipts the contract asks for and the
 * typing notices go out after one presence lookup. Typing is never stored.
 */
@Injectable()
export class DeviceSignalsUseCase {
  constructor(
    private readonly cursors: CursorsRepository,
    private readonly membership: MembershipService,
    private readonly router: DeviceRouter,
    private readonly deliveredCursors: DeliveredCursorStore,
    private readonly pending: PendingPushes,
    private readonly backlog: SignalBacklog,
  ) {}

  /** `from`: the partition the batch came from and the signals still queued behind it. */
  async execute(signals: DeviceSignal[], from?: { partition: number; lag: number }): Promise<void> {
    if (from) this.backlog.observe(from.partition, from.lag, Date.now());
    const { acks, reads, typings } = coalesce(signals);
    // Re-push stops first: this instance's entries at once, other instances' through Redis.
    this.pending.acknowledge(acks);
    await this.deliveredCursors.raiseDeliveredCursors(acks);
    // One after the other: both lock the same member rows, and in parallel they could deadlock.
    const delivered = await this.cursors.advanceDeliveredMany(acks);
    const read = await this.cursors.advanceReadMany(reads);
    const ackedBy = movingDevices(acks);
    const readBy = movingDevices(reads);
    const planned = [
      ...delivered.map((m) => planReceipt('delivered', m, ackedBy.get(`${m.userId}|${m.conversationId}`))),
      ...read.map((m) => planReceipt('read', m, readBy.get(`${m.userId}|${m.conversationId}`))),
      ...(await this.typingNotices(typings)),
    ].filter((p): p is Notice => p !== null);
    if (planned.length === 0) return;

    const devices = await this.router.onlineDevices(planned.flatMap((p) => p.userIds));
    const byUser = new Map<string, DeviceTarget[]>();
    for (const d of devices) {
      const list = byUser.get(d.userId);
      if (list) list.push(d);
      else byUser.set(d.userId, [d]);
    }
    const items: { target: DeviceTarget; frame: ServerFrame }[] = [];
    for (const p of planned)
      for (const userId of p.userIds)
        for (const target of byUser.get(userId) ?? [])
          if (!(p.except && target.userId === p.except.userId && target.deviceId === p.except.deviceId))
            items.push({ target, frame: p.frame });
    await this.router.send(items);
  }

  private async typingNotices(typings: TypingSignal[]): Promise<Notice[]> {
    return Promise.all(
      typings.map(async (t) => ({
        frame: { type: 'typing' as const, conversationId: t.conversationId, userId: t.userId },
        userIds: (await this.membership.members(t.conversationId)).filter((m) => m !== t.userId),
      })),
    );
  }
}

/** Within one batch only the highest cursor per device and conversation matters. */
function coalesce(signals: DeviceSignal[]): {
  acks: CursorSignal[];
  reads: CursorSignal[];
  typings: TypingSignal[];
} {
  const cursors = new Map<string, CursorSignal>();
  const typings: TypingSignal[] = [];
  for (const s of signals) {
    if (s.kind === 'typing') {
      typings.push(s);
      continue;
    }
    const key = `${s.kind}|${s.userId}|${s.deviceId}|${s.conversationId}`;
    const prev = cursors.get(key);
    if (!prev || s.seq > prev.seq) cursors.set(key, s);
  }
  const all = [...cursors.values()];
  return {
    acks: all.filter((s) => s.kind === 'deliver_ack'),
    reads: all.filter((s) => s.kind === 'read'),
    typings,
  };
}

/** By user and conversation, the device that sent the highest cursor of the batch: it is not told of its own move. */
function movingDevices(signals: CursorSignal[]): Map<string, string> {
  const best = new Map<string, CursorSignal>();
  for (const s of signals) {
    const key = `${s.userId}|${s.conversationId}`;
    const prev = best.get(key);
    if (!prev || s.seq > prev.seq) best.set(key, s);
  }
  return new Map([...best].map(([key, s]) => [key, s.deviceId]));
}
