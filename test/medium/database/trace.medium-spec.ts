import { randomUUID } from 'node:crypto';
import { TraceRepository } from '@im/database';
import { IdempotencyGuard } from '@im/idempotency';
import { SeqBlockRepository } from '../../../apps/sequencer/src/sequencing/seq-block.repository';
import { SequenceBatchUseCase } from '../../../apps/sequencer/src/sequencing/sequence-batch.usecase';
import { MessageStoreRepository } from '../../../apps/storage/src/persistence/message-store.repository';
import { PersistBatchUseCase } from '../../../apps/storage/src/persistence/persist-batch.usecase';
import { CapturingProducer } from '../support/capturing-producer';
import { MediumContext, type MediumUser } from '../support/medium-context';

/** A message's lifecycle as PostgreSQL knows it (GET /admin/messages/{id}/trace). */
describe('TraceRepository (real PostgreSQL)', () => {
  let ctx: MediumContext;
  let traces: TraceRepository;
  let store: MessageStoreRepository;
  let alice: MediumUser;
  let bob: MediumUser;
  beforeAll(async () => {
    ctx = await MediumContext.create('trace');
    traces = new TraceRepository(ctx.db);
    store = new MessageStoreRepository(ctx.db);
  });
  beforeEach(async () => {
    alice = await ctx.newUser('alice');
    bob = await ctx.newUser('bob');
  });
  afterAll(() => ctx.close());

  const at = (iso: string | null) => (iso === null ? NaN : Date.parse(iso));

  it('knows no trace of a message that is not stored', async () => {
    expect(await traces.trace(randomUUID())).toBeNull();
  });

  it('gives the stages of a message that went through the sequencer and storage, in order', async () => {
    const kafka = new CapturingProducer();
    const sequence = new SequenceBatchUseCase(
      new IdempotencyGuard(ctx.redis),
      new SeqBlockRepository(ctx.db),
      kafka.asProducer(),
      ctx.config,
    );
    const persist = new PersistBatchUseCase(store, kafka.asProducer());
    const conversationId = await ctx.newConversation([alice, bob]);
    const acceptedAt = Date.now();
    const sequenced = await sequence.execute([
      {
        conversationId,
        senderId: alice.id,
        clientMsgId: randomUUID(),
        contentType: 'text',
        body: { text: 'trace me' },
        origin: { gatewayId: 'gw', connId: 'c', deviceId: 'phone' },
        acceptedAt,
      },
    ]);
    if (sequenced === 'abandoned') throw new Error('abandoned');
    await sequenced.durable;
    const [message] = kafka.take('sequenced');
    await (
      await persist.execute([message])
    ).durable;
    const { storedAt } = kafka.take('persisted')[0] as { storedAt: number };

    const trace = (await traces.trace(message.messageId))!;
    expect(trace).toMatchObject({ messageId: message.messageId, conversationId, seq: 1, senderId: alice.id });
    const { accepted, sequenced: sequencedAt, stored } = trace.stages;
    expect(at(accepted)).toBe(acceptedAt);
    expect(at(sequencedAt)).toBe(message.sentAt);
    expect(at(accepted)).toBeLessThanOrEqual(at(sequencedAt));
    expect(at(sequencedAt)).toBeLessThanOrEqual(at(stored));
    expect(at(stored)).toBeLessThanOrEqual(storedAt);
  });

  it('tells per device whether its delivered cursor covers the message, and since when, in user and device order', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    const [first, second] = [
      ctx.newSequenced(conversationId, alice),
      ctx.newSequenced(conversationId, alice),
    ];
    await store.storeBatch([first, second]);
    const move = (user: MediumUser, deviceId: string, seq: number) => ({
      userId: user.id,
      deviceId,
      conversationId,
      seq,
    });
    const before = Date.now();
    await ctx.cursors.advanceDeliveredMany([move(bob, 'phone', 2), move(bob, 'laptop', 1)]);
    await ctx.cursors.advanceDeliveredMany([move(alice, 'tablet', 2)]);

    const devices = (await traces.trace(second.messageId))!.devices;
    expect(devices.map((d) => [d.userId, d.deviceId, d.delivered])).toEqual([
      [alice.id, 'tablet', true],
      [bob.id, 'laptop', false],
      [bob.id, 'phone', true],
    ]);
    expect(devices[1].at).toBeNull();
    for (const d of [devices[0], devices[2]]) expect(at(d.at)).toBeGreaterThanOrEqual(before - 1000);
    // The earlier message is covered by every one of those cursors.
    expect((await traces.trace(first.messageId))!.devices.every((d) => d.delivered)).toBe(true);
  });

  it('tells per member whether it was delivered and read, and leaves other conversations’ cursors out', async () => {
    const carol = await ctx.newUser('carol');
    const conversationId = await ctx.newConversation([alice, bob, carol]);
    const messages = [1, 2, 3].map(() => ctx.newSequenced(conversationId, alice));
    await store.storeBatch(messages);
    const elsewhere = await ctx.newConversation([alice, carol]);
    await store.storeBatch([ctx.newSequenced(elsewhere, alice)]);
    await ctx.cursors.advanceDeliveredMany([
      { userId: bob.id, deviceId: 'phone', conversationId, seq: 3 },
      { userId: carol.id, deviceId: 'phone', conversationId, seq: 1 },
      { userId: carol.id, deviceId: 'phone', conversationId: elsewhere, seq: 1 },
    ]);
    await ctx.cursors.advanceReadMany([{ userId: bob.id, conversationId, seq: 2 }]);

    const trace = (await traces.trace(messages[1].messageId))!;
    expect(trace.members).toEqual(
      [
        { userId: alice.id, delivered: false, read: false },
        { userId: bob.id, delivered: true, read: true },
        { userId: carol.id, delivered: false, read: false },
      ].sort((a, b) => (a.userId < b.userId ? -1 : 1)),
    );
    expect(trace.devices.map((d) => [d.userId, d.delivered])).toEqual(
      [
        [bob.id, true],
        [carol.id, false],
      ].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
    expect((await traces.trace(messages[2].messageId))!.members).toContainEqual({
      userId: bob.id,
      delivered: true,
      read: false,
    });
  });

  it('gives no accepted stage for a message stored before the gateway recorded it', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    const message = ctx.newSequenced(conversationId, alice);
    await store.storeBatch([message]);
    await ctx.db.query(`UPDATE messages SET accepted_at = NULL WHERE message_id = $1`, [message.messageId]);
    expect((await traces.trace(message.messageId))!.stages).toEqual({
      accepted: null,
      sequenced: new Date(message.sentAt).toISOString(),
      stored: expect.any(String) as string,
    });
  });
});
