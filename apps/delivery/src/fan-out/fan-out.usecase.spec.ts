import type { AppConfig } from '@im/config';
import type { BatchProducer, OfflineNotice, PersistedMessage, TopicEvents } from '@im/messaging';
import type { ServerFrame } from '@im/protocol';
import type { GatewayEnvelope, MembershipService } from '@im/realtime';
import { PendingPushes } from '../repush/pending-pushes';
import type { DeviceRouter, DeviceTarget } from './device-router';
import { FanOutUseCase } from './fan-out.usecase';

/** Fan-out's decisions with its stores faked: who is acked, who is pushed, what waits for re-push. */
describe('FanOutUseCase', () => {
  const online: Record<string, string[]> = { alice: ['phone', 'laptop'], bob: ['phone'], carol: [] };
  function setup(webhookUrl?: string) {
    const pushed: { to: string; frame: ServerFrame }[] = [];
    const direct: { gatewayId: string; envelope: GatewayEnvelope }[] = [];
    const membership = { members: async () => ['alice', 'bob', 'carol'] } as unknown as MembershipService;
    const router = {
      onlineDevices: async (userIds: string[]): Promise<DeviceTarget[]> =>
        [...new Set(userIds)].flatMap((userId) =>
          (online[userId] ?? []).map((deviceId) => ({
            userId,
            deviceId,
            presence: { gatewayId: 'gw', connId: `${userId}-${deviceId}`, connectedAt: 0 },
          })),
        ),
      send: async (items: { target: DeviceTarget; frame: ServerFrame }[], answers: typeof direct = []) => {
        for (const i of items) pushed.push({ to: `${i.target.userId}/${i.target.deviceId}`, frame: i.frame });
        direct.push(...answers);
      },
    } as unknown as DeviceRouter;
    const pending = new PendingPushes();
    const config = { REPUSH_INITIAL_MS: 1000, REPUSH_MAX_MS: 8000, WEBHOOK_URL: webhookUrl } as AppConfig;
    const queued: OfflineNotice[] = [];
    const producer = {
      publishAll: async (topic: string, items: { event: OfflineNotice }[]) => {
        if (topic === 'offline') queued.push(...items.map((i) => i.event));
      },
    } as unknown as BatchProducer;
    const fanOut = new FanOutUseCase(membership, router, pending, config, producer);
    return { fanOut, pushed, direct, pending, queued };
  }
  const persisted = (seq: number, extra: Partial<PersistedMessage> = {}): PersistedMessage => ({
    conversationId: 'c1',
    senderId: 'alice',
    clientMsgId: `m${seq}`,
    contentType: 'text',
    body: { text: `m${seq}` },
    origin: { gatewayId: 'gw', connId: 'alice-phone', deviceId: 'phone' },
    acceptedAt: 0,
    seq,
    messageId: `id${seq}`,
    sentAt: 0,
    retry: false,
    fresh: true,
    storedAt: Date.now(),
    ...extra,
  });

  it('acks the sending connection and pushes every online device but the sending one, in seq order', async () => {
    const { fanOut, pushed, direct } = setup();
    await fanOut.execute([persisted(1), persisted(2)]);
    expect(
      direct.map((d) => d.envelope.kind === 'to_conn' && [d.envelope.connId, d.envelope.frame.type]),
    ).toEqual([
      ['alice-phone', 'ack'],
      ['alice-phone', 'ack'],
    ]);
    expect(pushed.map((p) => [p.to, p.frame.type === 'message' && p.frame.seq])).toEqual([
      ['alice/laptop', 1],
      ['bob/phone', 1],
      ['alice/laptop', 2],
      ['bob/phone', 2],
    ]);
  });

  it('waits for one deliver_ack per device and conversation, covering the whole batch', async () => {
    const { fanOut, pending } = setup();
    await fanOut.execute([persisted(1), persisted(2), persisted(3)]);
    const due = pending.takeDue(Date.now() + 60_000, 100);
    expect(due.map((p) => [p.userId, p.deviceId, p.fromSeq, p.seq])).toEqual(
      expect.arrayContaining([
        ['alice', 'laptop', 1, 3],
        ['bob', 'phone', 1, 3],
      ]),
    );
    expect(due).toHaveLength(2);
  });

  it('answers a client’s resend of a stored message with its ack only, but pushes a replay after a crash', async () => {
    const { fanOut, pushed, direct } = setup();
    await fanOut.execute([persisted(1, { retry: true, fresh: false })]);
    expect(direct).toHaveLength(1);
    expect(pushed).toEqual([]);
    await fanOut.execute([persisted(1, { retry: false, fresh: false })]);
    expect(pushed.map((p) => p.to)).toEqual(['alice/laptop', 'bob/phone']);
  });

  it('answers a message storage refused with an error to its sender, and pushes nothing', async () => {
    const { fanOut, pushed, direct } = setup();
    const rejected: TopicEvents['persisted'] = {
      rejected: true,
      conversationId: 'c1',
      clientMsgId: 'bad',
      origin: { gatewayId: 'gw', connId: 'alice-phone', deviceId: 'phone' },
      code: 'bad_request',
      message: 'the message cannot be stored',
    };
    await fanOut.execute([rejected]);
    expect(direct.map((d) => d.envelope.kind === 'to_conn' && d.envelope.frame)).toEqual([
      { type: 'error', ref: 'bad', code: 'bad_request', message: 'the message cannot be stored' },
    ]);
    expect(pushed).toEqual([]);
  });
  it('queues message.offline for members with no online device, only with webhooks on', async () => {
    const off = setup();
    expect(await off.fanOut.execute([persisted(1)])).toBeUndefined();
    expect(off.queued).toEqual([]);

    const on = setup('http://127.0.0.1:9/hook');
    const outcome = await on.fanOut.execute([persisted(1), persisted(2, { senderId: 'carol' })]);
    expect(outcome).toEqual({ durable: expect.any(Promise) });
    // carol has no device: she is told of alice's message, and nobody of her own (all others are online).
    expect(on.queued.map((n) => [n.seq, n.recipients])).toEqual([[1, ['carol']]]);
  });
});
