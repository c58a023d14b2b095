import { setup } from '../support/context';
import { Frame, TestClient } from '../support/test-client';
import { fullHistory, isAnswerTo, sendAndAck } from '../support/helpers';

/** `recall` (docs/protocol.md §3) and the recall message (§4). */
describe('recall', () => {
  const ctx = setup();

  async function recall(client: TestClient, conversationId: string, targetSeq: number, clientMsgId: string) {
    const from = client.frames.length;
    client.sendRaw({ type: 'recall', clientMsgId, conversationId, targetSeq });
    return client.next((f) => isAnswerTo(f, clientMsgId), 15_000, from);
  }

  it('lets the sender recall: acked as a new message, pushed as contentType recall, target shown recalled and empty', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 });
    const target = await sendAndAck(a, conversationId, 'oops');
    const kept = await sendAndAck(a, conversationId, 'fine');

    const ack = await recall(a, conversationId, target.seq, 'recall-1');
    expect(ack).toEqual({
      type: 'ack',
      clientMsgId: 'recall-1',
      conversationId,
      seq: expect.any(Number),
      messageId: expect.any(String),
      sentAt: expect.any(Number),
    });
    expect(ack.seq).toBeGreaterThan(kept.seq);

    const pushed = await b.next((f) => f.type === 'message' && f.clientMsgId === 'recall-1');
    expect(pushed).toEqual({
      type: 'message',
      conversationId,
      seq: ack.seq,
      messageId: ack.messageId,
      senderId: alice.id,
      clientMsgId: 'recall-1',
      contentType: 'recall',
      body: { targetSeq: target.seq },
      sentAt: ack.sentAt,
    });
    // The recalling device gets an ack, not a push of its own recall.
    expect(a.messages(conversationId)).toEqual([]);

    const timeline = await fullHistory(b, conversationId);
    expect(timeline.map((m) => m.seq)).toEqual([target.seq, kept.seq, ack.seq]);
    const [recalled, untouched, recallMessage] = timeline;
    expect(recalled).toMatchObject({
      seq: target.seq,
      messageId: target.messageId,
      recalled: true,
      body: {},
    });
    expect(untouched).toMatchObject({ seq: kept.seq, body: { text: 'fine' } });
    expect(untouched.recalled).toBeFalsy();
    expect(recallMessage).toMatchObject({
      contentType: 'recall',
      body: { targetSeq: target.seq },
      senderId: alice.id,
    });

    // The admin view agrees.
    const viaAdmin = await ctx.admin('GET', `/admin/messages/${target.messageId}`);
    expect(viaAdmin.body).toMatchObject({ recalled: true, body: {} });

    // A repeated recall frame is idempotent like a send.
    const again = await recall(a, conversationId, target.seq, 'recall-1');
    expect(again).toEqual(ack);
    expect(await fullHistory(b, conversationId)).toHaveLength(3);
  });

  it('refuses a recall by another member with forbidden, and of a missing seq with not_found', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob, { gateway: 1 });
    const target = await sendAndAck(a, conversationId, 'mine');

    expect(await recall(b, conversationId, target.seq, 'not-yours')).toMatchObject({
      type: 'error',
      ref: 'not-yours',
      code: 'forbidden',
    });
    expect(await recall(a, conversationId, target.seq + 1000, 'no-such-seq')).toMatchObject({
      type: 'error',
      ref: 'no-such-seq',
      code: 'not_found',
    });

    // Nothing changed.
    const timeline = await fullHistory(a, conversationId);
    expect(timeline).toHaveLength(1);
    expect(timeline[0]).toMatchObject({ messageId: target.messageId, body: { text: 'mine' } });
    expect(timeline[0].recalled).toBeFalsy();
    expect(b.messages(conversationId).filter((m: Frame) => m.contentType === 'recall')).toEqual([]);
  });
});
