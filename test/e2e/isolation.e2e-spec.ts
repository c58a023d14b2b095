import { setup } from '../support/context';
import { Frame, TestClient } from '../support/test-client';
import { drainSync, framesDuring, fullHistory, isAnswerTo, sendAndAck, waitFor } from '../support/helpers';

/** G6: a user reads, sends to and learns about only the conversations they are a member of. */
describe('isolation of conversations (G6)', () => {
  const ctx = setup();

  /** The next `error` frame after index `from`. */
  const nextError = (client: TestClient, from: number) => client.next((f) => f.type === 'error', 5_000, from);

  /** Sends a frame without clientMsgId/reqId and returns the error it provokes. */
  async function errorOf(client: TestClient, frame: Frame): Promise<Frame> {
    const from = client.frames.length;
    client.sendRaw(frame);
    return nextError(client, from);
  }

  async function sendAnswer(client: TestClient, conversationId: string, clientMsgId: string): Promise<Frame> {
    const from = client.frames.length;
    client.send(conversationId, 'let me in', clientMsgId);
    return client.next((f) => isAnswerTo(f, clientMsgId), 10_000, from);
  }

  it('refuses a non-member with `forbidden` on send, history, sync, read, typing, deliver_ack and recall, with no effect', async () => {
    const [alice, bob, eve] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('eve'),
    ];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob, { gateway: 1 });
    const e = await ctx.connect(eve, { gateway: 1 });
    const ack = await sendAndAck(a, conversationId, 'private');
    await b.next((f) => f.type === 'message' && f.seq === ack.seq);
    const bFrom = b.frames.length;
    const aFrom = a.frames.length;

    expect(await sendAnswer(e, conversationId, 'eve-send')).toMatchObject({
      type: 'error',
      ref: 'eve-send',
      code: 'forbidden',
    });
    expect(
      await e.request({ type: 'history', reqId: 'eve-history', conversationId, afterSeq: 0 }),
    ).toMatchObject({
      type: 'error',
      ref: 'eve-history',
      code: 'forbidden',
    });
    expect(
      await e.request({ type: 'history', reqId: 'eve-history-2', conversationId, beforeSeq: 100 }),
    ).toMatchObject({
      type: 'error',
      ref: 'eve-history-2',
      code: 'forbidden',
    });
    expect(
      await e.request({ type: 'sync', reqId: 'eve-sync', cursors: { [conversationId]: 0 } }),
    ).toMatchObject({ type: 'error', ref: 'eve-sync', code: 'forbidden' });
    e.sendRaw({ type: 'recall', clientMsgId: 'eve-recall', conversationId, targetSeq: ack.seq });
    expect(await e.ackOf('eve-recall')).toMatchObject({
      type: 'error',
      ref: 'eve-recall',
      code: 'forbidden',
    });
    expect(await errorOf(e, { type: 'read', conversationId, seq: ack.seq })).toMatchObject({
      code: 'forbidden',
    });
    expect(await errorOf(e, { type: 'typing', conversationId })).toMatchObject({ code: 'forbidden' });
    expect(await errorOf(e, { type: 'deliver_ack', conversationId, seq: ack.seq })).toMatchObject({
      code: 'forbidden',
    });

    // Nothing of it reached the members or the timeline.
    // (Re-pushes of the message bob has not acknowledged are no leak.)
    const leaked = await framesDuring(
      b,
      (f) => f.type !== 'pong' && !(f.type === 'message' && f.messageId === ack.messageId),
      1_000,
      bFrom,
    );
    expect(leaked).toEqual([]);
    expect(framesSince(a, aFrom)).toEqual([]);
    expect((await fullHistory(a, conversationId)).map((m) => m.messageId)).toEqual([ack.messageId]);
    const members = await ctx.admin('GET', `/admin/messages/${ack.messageId}`);
    expect(members.body.members).not.toContainEqual(expect.objectContaining({ userId: eve.id }));

    // Eve learns nothing about it from her own views either.
    expect((await drainSync(e)).messages).toEqual([]);
    const list = await e.request({ type: 'conversations', reqId: 'eve-list' });
    expect(list).toEqual({ type: 'conversations_result', reqId: 'eve-list', conversations: [] });
    // The connection stays usable.
    expect(e.closeCode).toBeUndefined();
  });

  it('answers a conversation that does not exist like one the user is not in', async () => {
    const eve = await ctx.newUser('eve');
    const e = await ctx.connect(eve);
    expect(await sendAnswer(e, 'no-such-conversation', 'ghost-send')).toMatchObject({
      type: 'error',
      ref: 'ghost-send',
      code: 'forbidden',
    });
    expect(
      await e.request({
        type: 'history',
        reqId: 'ghost-history',
        conversationId: 'no-such-conversation',
        afterSeq: 0,
      }),
    ).toMatchObject({ type: 'error', ref: 'ghost-history', code: 'forbidden' });
  });

  it('takes access away at once from an open connection when an admin removes the member', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol], 'group');
    const a = await ctx.connect(alice, { gateway: 0 });
    const c = await ctx.connect(carol, { gateway: 1 });
    // Carol is in: she can send, read history, and is pushed messages.
    const before = await sendAndAck(c, conversationId, 'still here');
    const welcome = await sendAndAck(a, conversationId, 'hi carol');
    await c.next((f) => f.type === 'message' && f.seq === welcome.seq);
    c.sendRaw({ type: 'deliver_ack', conversationId, seq: welcome.seq });

    const removed = await ctx.admin('DELETE', `/admin/conversations/${conversationId}/members/${carol.id}`);
    expect(removed.status).toBe(204);

    expect(await sendAnswer(c, conversationId, 'after-removal')).toMatchObject({
      type: 'error',
      ref: 'after-removal',
      code: 'forbidden',
    });
    expect(
      await c.request({ type: 'history', reqId: 'removed-history', conversationId, afterSeq: 0 }),
    ).toMatchObject({
      type: 'error',
      ref: 'removed-history',
      code: 'forbidden',
    });
    expect(
      await c.request({ type: 'sync', reqId: 'removed-sync', cursors: { [conversationId]: 0 } }),
    ).toMatchObject({ type: 'error', ref: 'removed-sync', code: 'forbidden' });
    expect(await errorOf(c, { type: 'typing', conversationId })).toMatchObject({ code: 'forbidden' });
    c.sendRaw({ type: 'recall', clientMsgId: 'removed-recall', conversationId, targetSeq: before.seq });
    expect(await c.ackOf('removed-recall')).toMatchObject({ type: 'error', code: 'forbidden' });

    // New messages are no longer pushed to her, and her sync no longer covers the conversation.
    const cFrom = c.frames.length;
    const after = await sendAndAck(a, conversationId, 'carol is gone');
    await waitFor(
      async () => (await fullHistory(a, conversationId)).some((m) => m.seq === after.seq),
      'stored',
    );
    const pushed = await framesDuring(c, (f) => f.type === 'message' && f.seq >= after.seq, 1_500, cFrom);
    expect(pushed).toEqual([]);
    expect(
      (await drainSync(c)).messages.filter((m) => m.seq === after.seq && m.conversationId === conversationId),
    ).toEqual([]);
    const list = await c.request({ type: 'conversations', reqId: 'removed-list' });
    expect((list.conversations as Frame[]).map((x) => x.conversationId)).not.toContain(conversationId);

    const conversation = await ctx.admin('GET', `/admin/conversations/${conversationId}`);
    expect(conversation.body.memberIds).not.toContain(carol.id);
  });
});

const framesSince = (client: TestClient, from: number) =>
  client.frames.slice(from).filter((f) => f.type !== 'pong');
