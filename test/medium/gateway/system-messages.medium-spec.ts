import { randomUUID } from 'node:crypto';
import { BadRequestException, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { SYSTEM_USER_ID } from '@im/protocol';
import { SystemMessagesService } from '../../../apps/gateway/src/admin/system-messages.service';
import { AdminPipeline } from '../support/admin-pipeline';
import { MediumContext, type MediumUser } from '../support/medium-context';

/**
 * The admin API's system messages and recalls: through the same pipeline as a client's send
 * (sequencer, storage, delivery in-process over the real PostgreSQL and Redis), answered with
 * the ack delivery routes back to this gateway, or with the HTTP error the admin should see.
 */
describe('SystemMessagesService (in-process pipeline, real PostgreSQL and Redis)', () => {
  let ctx: MediumContext;
  let pipeline: AdminPipeline;
  let service: SystemMessagesService;
  /** Gives up on an ack after 1 s, for the cases where none comes. */
  let impatient: SystemMessagesService;
  let alice: MediumUser;
  let bob: MediumUser;

  beforeAll(async () => {
    ctx = await MediumContext.create('system-messages');
    pipeline = await AdminPipeline.start(ctx);
    const config = (timeoutMs: number) =>
      Object.assign(new AppConfig(), ctx.config, { ADMIN_ACK_TIMEOUT_MS: timeoutMs });
    service = new SystemMessagesService(pipeline.accept, pipeline.waiters, config(15_000));
    impatient = new SystemMessagesService(pipeline.accept, pipeline.waiters, config(1_000));
  });
  beforeEach(async () => {
    alice = await ctx.newUser('alice');
    bob = await ctx.newUser('bob');
    pipeline.inbound = 'deliver';
    await pipeline.idle();
    pipeline.envelopes.length = 0;
  });
  afterEach(() => expect(pipeline.errors).toEqual([]));
  afterAll(() => ctx.close());

  /** A member's send, published as the gateway does after its checks. */
  async function send(conversationId: string, sender: MediumUser, text: string): Promise<void> {
    await pipeline.accept.publish({
      conversationId,
      senderId: sender.id,
      clientMsgId: randomUUID(),
      contentType: 'text',
      body: { text },
      origin: { gatewayId: ctx.config.INSTANCE_ID, connId: `${sender.id}-phone`, deviceId: 'phone' },
    });
    await pipeline.idle();
  }
  const stored = async (conversationId: string) =>
    (await ctx.messages.after(conversationId, 0, 100)).messages;

  it('sequences a system message after the members’ messages, stores it as the system’s, acks what PostgreSQL holds and pushes it to every member’s device', async () => {
    const carol = await ctx.newUser('carol');
    const conversationId = await ctx.newConversation([alice, bob, carol]);
    await send(conversationId, alice, 'one');
    await send(conversationId, bob, 'two');
    await Promise.all([pipeline.online(alice.id, 'phone'), pipeline.online(bob.id, 'phone')]);

    const ack = await service.post(conversationId, 'notice-1', { text: 'maintenance at noon' });
    await pipeline.idle();

    expect(ack).toEqual({
      clientMsgId: 'notice-1',
      conversationId,
      seq: 3,
      messageId: expect.any(String) as string,
      sentAt: expect.any(Number) as number,
    });
    expect(await ctx.messages.bySeq(conversationId, 3)).toEqual({
      conversationId,
      seq: 3,
      messageId: ack.messageId,
      senderId: SYSTEM_USER_ID,
      clientMsgId: 'notice-1',
      contentType: 'system',
      body: { text: 'maintenance at noon' },
      sentAt: ack.sentAt,
    });
    expect(pipeline.published.at(-1)).toMatchObject({
      senderId: SYSTEM_USER_ID,
      origin: {
        gatewayId: ctx.config.INSTANCE_ID,
        connId: expect.stringMatching(/^rest:/) as string,
        deviceId: null,
      },
    });
    // No device is the sending one: every online device of every member gets it, once.
    for (const user of [alice, bob])
      expect(pipeline.framesTo(user.id, 'phone')).toEqual([
        expect.objectContaining({
          type: 'message',
          seq: 3,
          senderId: SYSTEM_USER_ID,
          messageId: ack.messageId,
        }),
      ]);
  });

  it('answers a post again under the same clientMsgId with the first ack, and stores and pushes nothing new', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    await pipeline.online(bob.id, 'phone');
    const first = await service.post(conversationId, 'notice-2', { text: 'first' });
    await pipeline.idle();
    pipeline.envelopes.length = 0;

    expect(await service.post(conversationId, 'notice-2', { text: 'second' })).toEqual(first);
    await pipeline.idle();
    expect((await stored(conversationId)).map((m) => [m.seq, m.body])).toEqual([[1, { text: 'first' }]]);
    expect(pipeline.framesTo(bob.id, 'phone')).toEqual([]);
  });

  it('refuses a conversation that does not exist with 404, and publishes nothing', async () => {
    const before = pipeline.published.length;
    await expect(service.post(randomUUID(), 'notice-3', { text: 'to nobody' })).rejects.toBeInstanceOf(
      NotFoundException,
    );
    expect(pipeline.published).toHaveLength(before);
  });

  it('recalls any member’s message at any time, and refuses a recall of a missing message (404) or of a recall (400)', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    await send(conversationId, alice, 'regrettable');
    // Long past a sender's recall window: an admin may still recall it.
    await ctx.db.query(
      `UPDATE messages SET sent_at = now() - interval '30 days' WHERE conversation_id = $1`,
      [conversationId],
    );

    const recall = await service.post(conversationId, 'recall-1', { targetSeq: 1 }, 'recall');
    expect(recall.seq).toBe(2);
    expect(await stored(conversationId)).toEqual([
      expect.objectContaining({ seq: 1, senderId: alice.id, recalled: true, body: {} }),
      expect.objectContaining({
        seq: 2,
        senderId: SYSTEM_USER_ID,
        contentType: 'recall',
        body: { targetSeq: 1 },
      }),
    ]);

    const before = pipeline.published.length;
    await expect(service.post(conversationId, 'recall-2', { targetSeq: 9 }, 'recall')).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await expect(service.post(conversationId, 'recall-3', { targetSeq: 2 }, 'recall')).rejects.toBeInstanceOf(
      BadRequestException,
    );
    expect(pipeline.published).toHaveLength(before);
  });

  it('answers 400 when storage refuses the message’s data, and stores nothing', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    // jsonb cannot hold U+0000: storage answers the origin with an error instead of an ack.
    await expect(service.post(conversationId, 'notice-nul', { text: 'nul \u0000' })).rejects.toEqual(
      new BadRequestException('the message cannot be stored'),
    );
    expect(await stored(conversationId)).toEqual([]);
  });

  it('answers 503 when Kafka refuses the message, and the retry under the same clientMsgId stores it once', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    pipeline.inbound = 'fail';
    await expect(impatient.post(conversationId, 'notice-4', { text: 'hello' })).rejects.toBeInstanceOf(
      ServiceUnavailableException,
    );
    pipeline.inbound = 'deliver';
    const ack = await service.post(conversationId, 'notice-4', { text: 'hello' });
    expect((await stored(conversationId)).map((m) => [m.seq, m.messageId])).toEqual([[1, ack.messageId]]);
  });

  it('answers 503 when no ack comes in time, and the late message and the retry become one message', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    pipeline.inbound = 'hold';
    const started = Date.now();
    await expect(impatient.post(conversationId, 'notice-5', { text: 'slow' })).rejects.toBeInstanceOf(
      ServiceUnavailableException,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(await stored(conversationId)).toEqual([]);

    // The partition moves again: the first copy is stored, the retry is answered with its ack.
    pipeline.inbound = 'deliver';
    pipeline.release();
    const ack = await service.post(conversationId, 'notice-5', { text: 'slow' });
    expect((await stored(conversationId)).map((m) => [m.seq, m.messageId, m.clientMsgId])).toEqual([
      [1, ack.messageId, 'notice-5'],
    ]);
  });
});
