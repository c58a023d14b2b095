import type { AppConfig } from '@im/config';
import type { MessagesRepository } from '@im/database';
import type { MessageView, ServerFrame } from '@im/protocol';
import type { DevicePresence, MembershipService } from '@im/realtime';
import type { DeviceRouter, DeviceTarget } from '../fan-out/device-router';
import type { DeliveredCursorStore } from './delivered-cursor.store';
import { RepushRoundUseCase } from './repush-round.usecase';
import type { PendingPush } from './repush-schedule';

/** One re-push round with its stores faked: what is pushed again, to whom, and what is kept. */
describe('RepushRoundUseCase', () => {
  function setup(
    opts: { cursor?: number; connId?: string | null; member?: boolean; deletedUpTo?: number } = {},
  ) {
    const pushed: { to: string; seq: number }[] = [];
    const message = (seq: number): MessageView => ({
      conversationId: 'c1',
      seq,
      messageId: `m${seq}`,
      senderId: 'alice',
      clientMsgId: `x${seq}`,
      contentType: 'text',
      body: { text: String(seq) },
      sentAt: 0,
    });
    const deliveredCursors = {
      deliveredCursors: async (pushes: PendingPush[]) => pushes.map(() => opts.cursor ?? 0),
    } as unknown as DeliveredCursorStore;
    const presence = new Map<string, Map<string, DevicePresence>>();
    if (opts.connId !== null)
      presence.set(
        'bob',
        new Map([['phone', { gatewayId: 'gw', connId: opts.connId ?? 'conn-1', connectedAt: 0 }]]),
      );
    const router = {
      presence: { devicesOf: async () => presence },
      send: async (items: { target: DeviceTarget; frame: ServerFrame }[]) => {
        for (const i of items)
          if (i.frame.type === 'message') pushed.push({ to: i.target.deviceId, seq: i.frame.seq });
      },
    } as unknown as DeviceRouter;
    const messages = {
      // Seqs up to `deletedUpTo` were deleted by retention: a page starts above them.
      after: async (_c: string, afterSeq: number, limit: number) => {
        const from = Math.max(afterSeq, opts.deletedUpTo ?? 0);
        return { messages: Array.from({ length: limit }, (_, i) => message(from + 1 + i)), hasMore: true };
      },
    } as unknown as MessagesRepository;
    const membership = { isMember: async () => opts.member ?? true } as unknown as MembershipService;
    const config = { REPUSH_INITIAL_MS: 1000, REPUSH_MAX_MS: 8000 } as AppConfig;
    return { round: new RepushRoundUseCase(deliveredCursors, router, messages, membership, config), pushed };
  }
  const push: PendingPush = {
    userId: 'bob',
    deviceId: 'phone',
    connId: 'conn-1',
    conversationId: 'c1',
    fromSeq: 3,
    seq: 6,
    attempt: 0,
  };

  it('pushes again what the device has not acknowledged, and keeps the entry for a later attempt', async () => {
    const { round, pushed } = setup({ cursor: 4 });
    const { pushed: count, again } = await round.execute([push], 10_000);
    expect(pushed.map((p) => p.seq)).toEqual([5, 6]);
    expect(count).toBe(2);
    expect(again).toEqual([{ push: { ...push, attempt: 1 }, dueAt: expect.any(Number) as number }]);
    expect(again[0].dueAt).toBeGreaterThan(10_000);
  });

  it('drops an entry the device acknowledged through another instance', async () => {
    const { round, pushed } = setup({ cursor: 6 });
    expect(await round.execute([push], 0)).toEqual({ pushed: 0, again: [] });
    expect(pushed).toEqual([]);
  });

  it.each([
    ['the device is gone', { connId: null }],
    ['the device reconnected (a new connection syncs)', { connId: 'conn-2' }],
    ['the user is no longer a member', { member: false }],
  ])('drops an entry when %s', async (_why, opts) => {
    const { round, pushed } = setup(opts);
    expect(await round.execute([push], 0)).toEqual({ pushed: 0, again: [] });
    expect(pushed).toEqual([]);
  });

  it('pushes what is left of a range retention cut into, and keeps waiting for it', async () => {
    const { round, pushed } = setup({ cursor: 2, deletedUpTo: 4 });
    const { again } = await round.execute([push], 0);
    expect(pushed.map((p) => p.seq)).toEqual([5, 6]);
    expect(again).toHaveLength(1);
  });

  it('drops an entry whose whole range retention deleted: there is nothing the device could acknowledge', async () => {
    const { round, pushed } = setup({ cursor: 2, deletedUpTo: 6 });
    expect(await round.execute([push], 0)).toEqual({ pushed: 0, again: [] });
    expect(pushed).toEqual([]);
  });
});
