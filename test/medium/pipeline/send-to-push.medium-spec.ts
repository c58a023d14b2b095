import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@im/realtime';
import { IdempotencyGuard } from '@im/idempotency';
import type { GatewayEnvelope } from '@im/realtime';
import type { InboundMessage } from '@im/messaging';
import { GatewayBus, MembershipMemo, MembershipService, PresenceStore } from '@im/realtime';
import { DeviceRouter } from '../../../apps/delivery/src/fan-out/device-router';
import { FanOutUseCase } from '../../../apps/delivery/src/fan-out/fan-out.usecase';
import { DeliveredCursorStore } from '../../../apps/delivery/src/repush/delivered-cursor.store';
import { PendingPushes } from '../../../apps/delivery/src/repush/pending-pushes';
import { DeviceSignalsUseCase } from '../../../apps/delivery/src/signals/device-signals.usecase';
import { SignalBacklog } from '../../../apps/delivery/src/signals/signal-backlog';
import { SeqBlockRepository } from '../../../apps/sequencer/src/sequencing/seq-block.repository';
import { SequenceBatchUseCase } from '../../../apps/sequencer/src/sequencing/sequence-batch.usecase';
import { MessageStoreRepository } from '../../../apps/storage/src/persistence/message-store.repository';
import { PersistBatchUseCase } from '../../../apps/storage/src/persistence/persist-batch.usecase';
import { CapturingProducer } from '../support/capturing-producer';
import { MediumContext, type MediumUser } from '../support/medium-context';

/**
 * The sequencer's, storage's and delivery's use cases in one process, over the real
 * PostgreSQL and RedisClient, with Kafka replaced by a capturing producer between them and the
 * gateway by a subscriber of its bus channel: what a send becomes on its way to the devices.
 */
describe('send → sequence → store → fan-out → signals (in-process, real PostgreSQL and RedisClient)', () => {
  let ctx: MediumContext;
  const kafka = new CapturingProducer();
  const gateway = 'gw-medium';
  const envelopes: GatewayEnvelope[] = [];
  let subscriber: RedisClient;
  let sequence: SequenceBatchUseCase;
  let persist: PersistBatchUseCase;
  let fanOut: FanOutUseCase;
  let signals: DeviceSignalsUseCase;
  let pending: PendingPushes;
  let presence: PresenceStore;
  let alice: MediumUser;
  let bob: MediumUser;

  beforeAll(async () => {
    ctx = await MediumContext.create('send-to-push');
    const membership = new MembershipService(
      ctx.redis,
      ctx.conversations,
      new MembershipMemo({ maxConversations: 100, ttlMs: 60_000 }),
    );
    presence = new PresenceStore(ctx.redis);
    const router = new DeviceRouter(presence, new GatewayBus(ctx.redis));
    pending = new PendingPushes();
    sequence = new SequenceBatchUseCase(
      new IdempotencyGuard(ctx.redis),
      new SeqBlockRepository(ctx.db),
      kafka.asProducer(),
      ctx.config,
    );
    persist = new PersistBatchUseCase(new MessageStoreRepository(ctx.db), kafka.asProducer());
    fanOut = new FanOutUseCase(membership, router, pending, ctx.config, kafka.asProducer());
    signals = new DeviceSignalsUseCase(
      ctx.cursors,
      membership,
      router,
      new DeliveredCursorStore(ctx.redis),
      pending,
      new SignalBacklog(),
    );
    subscriber = ctx.newRedis();
    await GatewayBus.subscribe(subscriber, gateway, (e) => envelopes.push(e));
  });
  // A direct conversation is one per pair: each case has users of its own.
  beforeEach(async () => {
    alice = await ctx.newUser('alice');
    bob = await ctx.newUser('bob');
    await settle();
    envelopes.length = 0;
  });
  afterAll(() => ctx.close());

  const online = (user: MediumUser, deviceId: string) =>
    presence.register(user.id, deviceId, {
      gatewayId: gateway,
      connId: `${user.id}-${deviceId}`,
      connectedAt: 0,
    });
  const inbound = (
    conversationId: string,
    sender: MediumUser,
    deviceId: string,
    clientMsgId = randomUUID(),
  ) =>
    ({
      conversationId,
      senderId: sender.id,
      clientMsgId,
      contentType: 'text',
      body: { text: clientMsgId },
      origin: { gatewayId: gateway, connId: `${sender.id}-${deviceId}`, deviceId },
      acceptedAt: Date.now(),
    }) satisfies InboundMessage;

  /** Runs one batch through the three hops, as the consumers would. */
  async function through(batch: InboundMessage[]): Promise<void> {
    const sequenced = await sequence.execute(batch);
    if (sequenced === 'abandoned') throw new Error('abandoned');
    await sequenced.durable;
    await (
      await persist.execute(kafka.take('sequenced'))
    ).durable;
    await fanOut.execute(kafka.take('persisted'));
  }
  /** Redis answers the subscriber's PING after every message published to it before. */
  const settle = async () => {
    await subscriber.ping();
  };
  const framesTo = (userId: string, deviceId: string) =>
    envelopes.flatMap((e) =>
      e.kind === 'to_devices' && e.devices.some(([u, d]) => u === userId && d === deviceId) ? [e.frame] : [],
    );
  const answersTo = (connId: string) =>
    envelopes.flatMap((e) => (e.kind === 'to_conn' && e.connId === connId ? [e.frame] : []));

  it('acks the sending connection, pushes every other device of the members in seq order, not the sending one', async () => {
    await settle();
    envelopes.length = 0;
    const conversationId = await ctx.newConversation([alice, bob]);
    await Promise.all([online(alice, 'phone'), online(alice, 'laptop'), online(bob, 'phone')]);
    await through([1, 2, 3].map(() => inbound(conversationId, alice, 'phone')));
    await settle();
    expect(answersTo(`${alice.id}-phone`).map((f) => f.type === 'ack' && f.seq)).toEqual([1, 2, 3]);
    expect(framesTo(bob.id, 'phone').map((f) => f.type === 'message' && f.seq)).toEqual([1, 2, 3]);
    expect(framesTo(alice.id, 'laptop').map((f) => f.type === 'message' && f.seq)).toEqual([1, 2, 3]);
    expect(framesTo(alice.id, 'phone')).toEqual([]);
    expect(pending.size).toBe(2); // one entry per pushed device and conversation
  });

  it('answers a resend with the first ack and pushes nothing again', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    await online(bob, 'phone');
    const first = inbound(conversationId, alice, 'phone');
    await through([first]);
    await settle();
    envelopes.length = 0;
    await through([{ ...first, acceptedAt: Date.now() }]);
    await settle();
    expect(answersTo(`${alice.id}-phone`)).toEqual([expect.objectContaining({ type: 'ack', seq: 1 })]);
    expect(framesTo(bob.id, 'phone')).toEqual([]);
  });

  it('answers both copies of a message sent twice in one batch with the same ack, and pushes it once', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    await online(bob, 'phone');
    const message = inbound(conversationId, alice, 'phone');
    await through([message, { ...message }]);
    await settle();
    const acks = answersTo(`${alice.id}-phone`);
    expect(acks).toHaveLength(2);
    expect(acks[1]).toEqual(acks[0]);
    expect(framesTo(bob.id, 'phone').map((f) => f.type === 'message' && f.seq)).toEqual([1]);
  });

  it('moves cursors on deliver_ack and read, stops re-push, and tells a direct conversation’s other member', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    await Promise.all([online(alice, 'phone'), online(bob, 'phone')]);
    await through([inbound(conversationId, alice, 'phone'), inbound(conversationId, alice, 'phone')]);
    const before = pending.size;
    await settle();
    envelopes.length = 0;
    const base = { userId: bob.id, deviceId: 'phone', conversationId };
    await signals.execute([
      { kind: 'deliver_ack', ...base, seq: 1 },
      { kind: 'deliver_ack', ...base, seq: 2 },
      { kind: 'read', ...base, seq: 2 },
    ]);
    await settle();
    expect(await ctx.cursors.forConversation(conversationId)).toEqual(
      expect.arrayContaining([{ userId: bob.id, deliveredSeq: 2, readSeq: 2 }]),
    );
    expect(pending.size).toBe(before - 1);
    expect(framesTo(alice.id, 'phone')).toEqual([
      { type: 'receipt', conversationId, kind: 'delivered', userId: bob.id, seq: 2 },
      { type: 'receipt', conversationId, kind: 'read', userId: bob.id, seq: 2 },
    ]);
    expect(framesTo(bob.id, 'phone')).toEqual([]); // the reader's own device is not told
  });

  it('in a group, pushes no receipt of a deliver_ack to the other members', async () => {
    const carol = await ctx.newUser('carol');
    const conversationId = await ctx.newConversation([alice, bob, carol]);
    await Promise.all([online(alice, 'phone'), online(bob, 'phone'), online(carol, 'phone')]);
    await through([inbound(conversationId, alice, 'phone')]);
    await settle();
    envelopes.length = 0;
    await signals.execute([
      { kind: 'deliver_ack', userId: bob.id, deviceId: 'phone', conversationId, seq: 1 },
    ]);
    await settle();
    expect(envelopes).toEqual([]);
  });
});
