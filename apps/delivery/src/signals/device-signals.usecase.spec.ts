import type { CursorMove, CursorsRepository, MovedCursor } from '@im/database';
import type { DeviceSignal } from '@im/messaging';
import type { ServerFrame } from '@im/protocol';
import type { MembershipService } from '@im/realtime';
import type { DeviceRouter, DeviceTarget } from '../fan-out/device-router';
import type { DeliveredCursorStore } from '../repush/delivered-cursor.store';
import { PendingPushes } from '../repush/pending-pushes';
import { DeviceSignalsUseCase } from './device-signals.usecase';
import { SignalBacklog } from './signal-backlog';

/** Signals with their stores faked: what reaches PostgreSQL and Redis, in which order, and who hears of it. */
describe('DeviceSignalsUseCase', () => {
  const devices: Record<string, string[]> = { alice: ['phone'], bob: ['phone', 'laptop'] };
  function setup(type: 'direct' | 'group') {
    const calls: string[] = [];
    const pushed: { to: string; frame: ServerFrame }[] = [];
    const moved = (m: Pick<CursorMove, 'userId' | 'conversationId' | 'seq'>): MovedCursor => ({
      conversationId: m.conversationId,
      userId: m.userId,
      seq: m.seq,
      conversationType: type,
      directMembers: type === 'direct' ? ['alice', 'bob'] : [],
    });
    const cursors = {
      advanceDeliveredMany: async (moves: CursorMove[]) => {
        calls.push(`pg delivered ${moves.map((m) => `${m.deviceId}:${m.seq}`).join(',')}`);
        return moves.map(moved);
      },
      advanceReadMany: async (moves: CursorMove[]) => {
        calls.push(`pg read ${moves.map((m) => m.seq).join(',')}`);
        return moves.map(moved);
      },
    } as unknown as CursorsRepository;
    const deliveredCursors = {
      raiseDeliveredCursors: async (moves: CursorMove[]) => void calls.push(`redis ${moves.length}`),
    } as unknown as DeliveredCursorStore;
    const membership = { members: async () => ['alice', 'bob'] } as unknown as MembershipService;
    const router = {
      onlineDevices: async (userIds: string[]): Promise<DeviceTarget[]> =>
        [...new Set(userIds)].flatMap((userId) =>
          (devices[userId] ?? []).map((deviceId) => ({
            userId,
            deviceId,
            presence: { gatewayId: 'gw', connId: `${userId}-${deviceId}`, connectedAt: 0 },
          })),
        ),
      send: async (items: { target: DeviceTarget; frame: ServerFrame }[]) => {
        for (const i of items) pushed.push({ to: `${i.target.userId}/${i.target.deviceId}`, frame: i.frame });
      },
    } as unknown as DeviceRouter;
    const pending = new PendingPushes();
    const signals = new DeviceSignalsUseCase(
      cursors,
      membership,
      router,
      deliveredCursors,
      pending,
      new SignalBacklog(),
    );
    return { signals, calls, pushed, pending };
  }
  const ack = (deviceId: string, seq: number): DeviceSignal => ({
    kind: 'deliver_ack',
    userId: 'bob',
    deviceId,
    conversationId: 'c1',
    seq,
  });
  const read = (seq: number): DeviceSignal => ({
    kind: 'read',
    userId: 'bob',
    deviceId: 'phone',
    conversationId: 'c1',
    seq,
  });

  it('keeps only each device’s highest cursor of a batch, raises Redis before PostgreSQL, deliveries before reads', async () => {
    const { signals, calls } = setup('group');
    await signals.execute([
      ack('phone', 2),
      ack('phone', 5),
      ack('laptop', 3),
      ack('phone', 4),
      read(1),
      read(4),
    ]);
    expect(calls).toEqual(['redis 2', 'pg delivered phone:5,laptop:3', 'pg read 4']);
  });

  it('stops this instance’s re-push of what an ack covers at once', async () => {
    const { signals, pending } = setup('group');
    pending.add(
      { userId: 'bob', deviceId: 'phone', connId: 'x', conversationId: 'c1', fromSeq: 1, seq: 3, attempt: 0 },
      0,
    );
    await signals.execute([ack('phone', 3)]);
    expect(pending.size).toBe(0);
  });

  it('in a direct conversation tells the other member of a delivery, never the device that acked', async () => {
    const { signals, pushed } = setup('direct');
    await signals.execute([ack('phone', 2)]);
    expect(pushed).toEqual([
      {
        to: 'alice/phone',
        frame: { type: 'receipt', conversationId: 'c1', kind: 'delivered', userId: 'bob', seq: 2 },
      },
    ]);
  });

  it('in a group tells of a read only the reader’s other devices, and of a delivery nobody', async () => {
    const { signals, pushed } = setup('group');
    await signals.execute([ack('laptop', 2), read(2)]);
    expect(pushed.map((p) => [p.to, p.frame.type === 'receipt' && p.frame.kind])).toEqual([
      ['bob/laptop', 'read'],
    ]);
  });

  it('passes typing on to the other members’ devices and stores nothing', async () => {
    const { signals, pushed, calls } = setup('group');
    await signals.execute([{ kind: 'typing', userId: 'bob', deviceId: 'phone', conversationId: 'c1' }]);
    expect(pushed).toEqual([
      { to: 'alice/phone', frame: { type: 'typing', conversationId: 'c1', userId: 'bob' } },
    ]);
    // Nothing but empty batches reached the stores.
    expect(calls.filter((c) => c !== 'redis 0' && !c.endsWith(' '))).toEqual([]);
  });
});
