import { setup } from '../support/context';
import { Frame, TestClient } from '../support/test-client';
import { framesDuring, framesSince, sendAndAck, sendMany, waitFor } from '../support/helpers';

const isReceipt = (kind: 'delivered' | 'read') => (f: Frame) => f.type === 'receipt' && f.kind === kind;

/** `deliver_ack`, `read` → `receipt`, and `conversations` → `conversations_result` (docs/protocol.md §3, §4). */
describe('receipts and the conversation list', () => {
  const ctx = setup();

  /** Waits until the admin view shows the user's read cursor at `seq` (independent of receipts). */
  const readSeqStored = (messageId: string, userId: string, seq: number) =>
    waitFor(async () => {
      const res = await ctx.admin('GET', `/admin/messages/${messageId}`);
      return res.body?.members?.some((m: Frame) => m.userId === userId && m.readSeq === seq);
    }, `the read cursor of ${userId} at ${seq}`);

  it('tells the sender with a `delivered` receipt when a recipient device acknowledges, and ignores a lower cursor', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b1 = await ctx.connect(bob, { gateway: 1 });
    const b2 = await ctx.connect(bob, { gateway: 0 });
    const [s1, s2, s3] = (await sendMany(a, conversationId, 3, 'dlv')).map((ack) => ack.seq as number);
    await b1.collect((f) => f.type === 'message' && f.seq === s3, 1);

    b1.sendRaw({ type: 'deliver_ack', conversationId, seq: s2 });
    expect(await a.next(isReceipt('delivered'))).toEqual({
      type: 'receipt',
      conversationId,
      kind: 'delivered',
      userId: bob.id,
      seq: s2,
    });

    // A lower cursor is ignored: no receipt for it; the next higher one gets its receipt.
    const from = a.frames.length;
    b1.sendRaw({ type: 'deliver_ack', conversationId, seq: s1 });
    b1.sendRaw({ type: 'deliver_ack', conversationId, seq: s3 });
    await a.next((f) => isReceipt('delivered')(f) && f.seq === s3, 10_000, from);
    expect(framesSince(a, from, isReceipt('delivered')).map((f) => f.seq)).toEqual([s3]);

    // `delivered` receipts go to the other members, not to the acknowledging user's own devices.
    expect(await framesDuring(b2, isReceipt('delivered'), 500, 0)).toEqual([]);
    expect(framesSince(b1, 0, isReceipt('delivered'))).toEqual([]);
  });

  it('sends a `read` receipt to the sender and to the reader’s other devices; the read cursor never goes back', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b1 = await ctx.connect(bob, { gateway: 1 });
    const b2 = await ctx.connect(bob, { gateway: 0 });
    const [s1, s2, s3] = (await sendMany(a, conversationId, 3, 'read')).map((ack) => ack.seq as number);
    await b1.collect((f) => f.type === 'message' && f.seq === s3, 1);

    b1.sendRaw({ type: 'read', conversationId, seq: s2 });
    const expected = { type: 'receipt', conversationId, kind: 'read', userId: bob.id, seq: s2 };
    expect(await a.next(isReceipt('read'))).toEqual(expected);
    expect(await b2.next(isReceipt('read'))).toEqual(expected);

    // Lower is ignored (no receipt, readSeq stays), higher moves it.
    const fromA = a.frames.length;
    const fromB2 = b2.frames.length;
    b1.sendRaw({ type: 'read', conversationId, seq: s1 });
    b1.sendRaw({ type: 'read', conversationId, seq: s2 });
    const list = await b1.request({ type: 'conversations' });
    expect(list.conversations.find((c: Frame) => c.conversationId === conversationId)?.readSeq).toBe(s2);
    b1.sendRaw({ type: 'read', conversationId, seq: s3 });
    await a.next((f) => isReceipt('read')(f) && f.seq === s3, 10_000, fromA);
    await b2.next((f) => isReceipt('read')(f) && f.seq === s3, 10_000, fromB2);
    expect(framesSince(a, fromA, isReceipt('read')).map((f) => f.seq)).toEqual([s3]);
    expect(framesSince(b2, fromB2, isReceipt('read')).map((f) => f.seq)).toEqual([s3]);

    const message = await ctx.admin(
      'GET',
      `/admin/messages/${(await history1(a, conversationId, s3)).messageId}`,
    );
    expect(message.body.members).toContainEqual(expect.objectContaining({ userId: bob.id, readSeq: s3 }));
  });

  it('lists conversations with lastSeq, readSeq, unread and lastMessage, most recently active first', async () => {
    const [xavier, yara, zoe] = [
      await ctx.newUser('xavier'),
      await ctx.newUser('yara'),
      await ctx.newUser('zoe'),
    ];
    const quiet = await ctx.newConversation([xavier, yara, zoe], 'group');
    const withYara = await ctx.newConversation([xavier, yara]);
    const withZoe = await ctx.newConversation([xavier, zoe]);
    const y = await ctx.connect(yara, { gateway: 0 });
    const z = await ctx.connect(zoe, { gateway: 1 });
    const x = await ctx.connect(xavier, { gateway: 1 });

    const fromYara = await sendMany(y, withYara, 3, 'yara');
    const fromZoe = await sendMany(z, withZoe, 2, 'zoe');
    x.sendRaw({ type: 'read', conversationId: withYara, seq: fromYara[0].seq });
    await readSeqStored(fromYara[0].messageId, xavier.id, fromYara[0].seq);

    const list = await x.request({ type: 'conversations', reqId: 'list-1' });
    expect(list).toEqual({ type: 'conversations_result', reqId: 'list-1', conversations: expect.any(Array) });
    expect(list.conversations.map((c: Frame) => c.conversationId)).toEqual([withZoe, withYara, quiet]);
    const [zoeSummary, yaraSummary, quietSummary] = list.conversations as Frame[];
    expect(yaraSummary).toEqual({
      conversationId: withYara,
      type: 'direct',
      title: 'test',
      lastSeq: fromYara[2].seq,
      readSeq: fromYara[0].seq,
      unread: 2,
      mentions: 0,
      lastMessage: expect.objectContaining({
        conversationId: withYara,
        seq: fromYara[2].seq,
        messageId: fromYara[2].messageId,
        senderId: yara.id,
        clientMsgId: fromYara[2].clientMsgId,
        contentType: 'text',
        body: { text: 'yara-2' },
        sentAt: fromYara[2].sentAt,
      }),
    });
    expect(zoeSummary).toMatchObject({
      conversationId: withZoe,
      type: 'direct',
      lastSeq: fromZoe[1].seq,
      readSeq: 0,
      unread: 2,
      lastMessage: { messageId: fromZoe[1].messageId, body: { text: 'zoe-1' } },
    });
    expect(quietSummary).toMatchObject({
      conversationId: quiet,
      type: 'group',
      lastSeq: 0,
      readSeq: 0,
      unread: 0,
      lastMessage: null,
    });

    // A new message makes its conversation the most recent one.
    const latest = await sendAndAck(y, withYara, 'again');
    const after = await x.request({ type: 'conversations', reqId: 'list-2' });
    expect(after.conversations.map((c: Frame) => c.conversationId)).toEqual([withYara, withZoe, quiet]);
    expect(after.conversations[0]).toMatchObject({
      lastSeq: latest.seq,
      unread: 3,
      lastMessage: { messageId: latest.messageId },
    });

    // Reading up to the end clears the unread count.
    x.sendRaw({ type: 'read', conversationId: withYara, seq: latest.seq });
    await readSeqStored(latest.messageId, xavier.id, latest.seq);
    const cleared = await x.request({ type: 'conversations' });
    expect(cleared.conversations.find((c: Frame) => c.conversationId === withYara)).toMatchObject({
      readSeq: latest.seq,
      unread: 0,
    });
  });
});

async function history1(client: TestClient, conversationId: string, seq: number): Promise<Frame> {
  const page = await client.request({ type: 'history', conversationId, afterSeq: seq - 1, limit: 1 });
  return page.messages[0] as Frame;
}
