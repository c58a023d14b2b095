import { Redis } from 'ioredis';
import { setup, TestUser } from '../support/context';
import { Frame, TestClient } from '../support/test-client';
import { drainSync, fullHistory, isAnswerTo, sendAndAck } from '../support/helpers';

const ackFields = (f: Frame) => ({
  type: f.type,
  clientMsgId: f.clientMsgId,
  conversationId: f.conversationId,
  seq: f.seq,
  messageId: f.messageId,
  sentAt: f.sentAt,
});

/** G2: a send repeated with the same (sender, conversationId, clientMsgId) never makes a second message. */
describe('idempotent send (G2)', () => {
  const ctx = setup();

  async function pair(): Promise<{ alice: TestUser; bob: TestUser; conversationId: string; a: TestClient }> {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    return { alice, bob, conversationId, a: await ctx.connect(alice) };
  }

  /** The messages of the conversation carrying this clientMsgId. */
  const stored = async (client: TestClient, conversationId: string, clientMsgId: string) =>
    (await fullHistory(client, conversationId)).filter((m) => m.clientMsgId === clientMsgId);

  it('answers a resend right after the ack with the identical ack, and stores one message', async () => {
    const { bob, conversationId, a } = await pair();
    const b = await ctx.connect(bob, { gateway: 1 });
    const first = await sendAndAck(a, conversationId, 'once', 'dup-1');
    const from = a.frames.length;
    a.send(conversationId, 'once', 'dup-1');
    const again = await a.next((f) => isAnswerTo(f, 'dup-1'), 15_000, from);
    expect(ackFields(again)).toEqual(ackFields(first));

    const rows = await stored(a, conversationId, 'dup-1');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ seq: first.seq, messageId: first.messageId, sentAt: first.sentAt });

    // A later message comes right after it: the resend used no seq that shows up as a message.
    const next = await sendAndAck(a, conversationId, 'next');
    expect(next.seq).toBeGreaterThan(first.seq);
    expect((await fullHistory(a, conversationId)).map((m) => m.seq)).toEqual([first.seq, next.seq]);

    // The recipient may see a push more than once, but always with the same seq and messageId.
    await b.next((f) => f.type === 'message' && f.clientMsgId === next.clientMsgId);
    const pushes = b.messages(conversationId).filter((m) => m.clientMsgId === 'dup-1');
    expect(pushes.length).toBeGreaterThanOrEqual(1);
    for (const p of pushes)
      expect({ seq: p.seq, messageId: p.messageId }).toEqual({ seq: first.seq, messageId: first.messageId });
  });

  it('answers resends in flight before the first ack (early client retries) with identical acks', async () => {
    const { conversationId, a } = await pair();
    for (let i = 0; i < 3; i++) a.send(conversationId, 'eager', 'dup-eager');
    const acks = await a.collect((f) => f.type === 'ack' && f.clientMsgId === 'dup-eager', 3);
    expect(acks.map(ackFields)).toEqual([ackFields(acks[0]), ackFields(acks[0]), ackFields(acks[0])]);
    expect(await stored(a, conversationId, 'dup-eager')).toHaveLength(1);
  });

  it('answers a resend from another device of the same user on the other gateway with the identical ack', async () => {
    const { alice, conversationId, a } = await pair();
    const first = await sendAndAck(a, conversationId, 'cross', 'dup-cross');
    const a2 = await ctx.connect(alice, { gateway: 1 });
    a2.send(conversationId, 'cross', 'dup-cross');
    const again = await a2.ackOf('dup-cross');
    expect(ackFields(again)).toEqual(ackFields(first));
    expect(await stored(a2, conversationId, 'dup-cross')).toHaveLength(1);
  });

  it('answers a resend after a reconnect of the same device with the identical ack', async () => {
    const { alice, conversationId, a } = await pair();
    const first = await sendAndAck(a, conversationId, 'reconnect', 'dup-reconnect');
    a.close();
    await a.waitClosed();
    const again = await ctx.connect(alice, { deviceId: a.deviceId, gateway: 1 });
    again.send(conversationId, 'reconnect', 'dup-reconnect');
    expect(ackFields(await again.ackOf('dup-reconnect'))).toEqual(ackFields(first));
    expect(await stored(again, conversationId, 'dup-reconnect')).toHaveLength(1);
  });

  it('scopes clientMsgId by sender and conversation: the same id elsewhere is a different message', async () => {
    const { alice, bob, conversationId, a } = await pair();
    const carol = await ctx.newUser('carol');
    const other = await ctx.newConversation([alice, carol]);
    const b = await ctx.connect(bob);
    const mine = await sendAndAck(a, conversationId, 'alice', 'shared-id');
    const bobs = await sendAndAck(b, conversationId, 'bob', 'shared-id');
    const elsewhere = await sendAndAck(a, other, 'other conversation', 'shared-id');
    expect(bobs.messageId).not.toBe(mine.messageId);
    expect(bobs.seq).not.toBe(mine.seq);
    expect(elsewhere.messageId).not.toBe(mine.messageId);
    expect((await fullHistory(a, conversationId)).map((m) => [m.senderId, m.body.text])).toEqual([
      [alice.id, 'alice'],
      [bob.id, 'bob'],
    ]);
  });

  // Last in this file: FLUSHALL drops all Redis state (presence, caches) of the shared stack.
  it('answers a resend after Redis lost all its data (FLUSHALL) with the identical ack', async () => {
    const { alice, bob, conversationId, a } = await pair();
    const first = await sendAndAck(a, conversationId, 'before flush', 'dup-flush');
    const redis = new Redis(ctx.stack.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
    try {
      await redis.connect();
      expect(await redis.flushall()).toBe('OK');
    } finally {
      redis.disconnect();
    }

    const from = a.frames.length;
    a.send(conversationId, 'before flush', 'dup-flush');
    const again = await a.next((f) => isAnswerTo(f, 'dup-flush'), 20_000, from);
    expect(ackFields(again)).toEqual(ackFields(first));

    // A resend from the other gateway after the flush, too.
    const a2 = await ctx.connect(alice, { gateway: 1 });
    a2.send(conversationId, 'before flush', 'dup-flush');
    expect(ackFields(await a2.ackOf('dup-flush', 20_000))).toEqual(ackFields(first));

    expect(await stored(a, conversationId, 'dup-flush')).toHaveLength(1);
    // New messages still work after the flush, and come after the old one.
    const after = await sendAndAck(a, conversationId, 'after flush', 'after-flush');
    expect(after.seq).toBeGreaterThan(first.seq);

    // An offline device of the recipient gets each message exactly once by sync (G1 across the loss of Redis).
    const b = await ctx.connect(bob, { gateway: 1 });
    const synced = (await drainSync(b)).messages.filter((m) => m.conversationId === conversationId);
    expect(synced.map((m) => m.clientMsgId)).toEqual(['dup-flush', 'after-flush']);
    expect(synced.map((m) => m.messageId)).toEqual([first.messageId, after.messageId]);
  });
});
