import { Injectable } from '@nestjs/common';
import { CursorsRepository } from '@im/database';
import { DeviceSignal } from '@im/messaging';
import { ServerFrame } from '@im/protocol';
import { MembershipService } from '@im/realtime';
import { DeviceRouter, DeviceTarget } from '../fan-out/device-router';
import { PendingPushStore } from '../repush/pending-push.store';

/**
 * deliver_ack, read and typing: move cursors (never backwards), and tell the other members'
 * devices (and, for read, the reader's other devices) with receipts. Typing is never stored.
 */
@Injectable()
export class DeviceSignalsUseCase {
  constructor(
    private readonly cursors: CursorsRepository,
    private readonly membership: MembershipService,
    private readonly router: DeviceRouter,
    private readonly pending: PendingPushStore,
  ) {}

  async execute(signals: DeviceSignal[]): Promise<void> {
    const items: { target: DeviceTarget; frame: ServerFrame }[] = [];
    for (const s of this.coalesce(signals)) {
      let frame: ServerFrame | null = null;
      let includeOwnDevices = false;
      if (s.kind === 'deliver_ack') {
        await this.pending.raiseDeliveredCursor(s.userId, s.deviceId, s.conversationId, s.seq);
        const moved = await this.cursors.advanceDelivered(s.userId, s.deviceId, s.conversationId, s.seq);
        if (moved !== null)
          frame = {
            type: 'receipt',
            conversationId: s.conversationId,
            kind: 'delivered',
            userId: s.userId,
            seq: moved,
          };
      } else if (s.kind === 'read') {
        const moved = await this.cursors.advanceRead(s.userId, s.conversationId, s.seq);
        if (moved !== null)
          frame = {
            type: 'receipt',
            conversationId: s.conversationId,
            kind: 'read',
            userId: s.userId,
            seq: moved,
          };
        includeOwnDevices = true;
      } else {
        frame = { type: 'typing', conversationId: s.conversationId, userId: s.userId };
      }
      if (!frame) continue;
      const members = await this.membership.members(s.conversationId);
      const recipients = includeOwnDevices ? members : members.filter((m) => m !== s.userId);
      for (const target of await this.router.onlineDevices(recipients)) {
        if (target.userId === s.userId && target.deviceId === s.deviceId) continue;
        items.push({ target, frame });
      }
    }
    await this.router.send(items);
  }

  /** Within one batch only the highest cursor per device and conversation matters. */
  private coalesce(signals: DeviceSignal[]): DeviceSignal[] {
    const out = new Map<string, DeviceSignal>();
    signals.forEach((s, i) => {
      const key =
        s.kind === 'typing' ? `typing|${i}` : `${s.kind}|${s.userId}|${s.deviceId}|${s.conversationId}`;
      const prev = out.get(key);
      if (!prev || ('seq' in s && 'seq' in prev && s.seq > prev.seq)) out.set(key, s);
    });
    return [...out.values()];
  }
}
