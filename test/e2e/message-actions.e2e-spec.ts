import { randomUUID } from 'node:crypto';
import { setup } from '../support/context';
import { drainSync, fullHistory, isAnswerTo, sendAndAck } from '../support/helpers';
import type { Frame, TestClient } from '../support/test-client';

/** `edit`, `react`, `hide`, `send`'s `replyTo` and `mentions` (docs/protocol.md §3, §4). */
describe('message actions', () => {
  const ctx = setup();

  /** Sends a frame that answers with ack or error, and waits for the answer. */
  async function answerOf(client: TestClient, frame: Record<string, unknown>): Promise<Frame> {
    const clientMsgId = (frame.clientMsgId as string | undefined) ?? randomUUID();
    const from = client.frames.length;
    client.sendRaw({ ...frame, clientMsgId });
    return client.next((f) => isAnswerTo(f, clientMsgId), 15_000, from);
  }
  const edit = (
    client: TestClient,
    conversationId: string,
    targetSeq: number,
    body: object,
    clientMsgId?: string,
  ) => answerOf(client, { type: 'edit', conversationId, targetSeq, body, clientMsgId });
  const react = (client: TestClient, conversationId: string, targetSeq: number, emoji: string, op = 'add') =>
    answerOf(client, { type: 'react', conversationId, targetSeq, emoji, op });
  const codeOf = (f: Frame) => (f.type === 'error' ? f.code : f.type);
  const bySeq = async (client: TestClient, conversationId: string, seq: number) =>
    (await fullHistory(client, conversationId)).find((m) => m.seq === seq);

  async function pair() {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 });
    return { alice, bob, conversationId, a, b };
  }

  it('an edit is a message of the stream: acked, pushed, the target shown with its newest body and editedAt', async () => {
    const { alice, conversationId, a, b } = await pair();
    const target = await sendAndAck(a, conversationId, 'helo');
    const ack = await edit(a, conversationId, target.seq as number, { text: 'hello' }, 'edit-1');
    expect(ack).toMatchObject({ type: 'ack', clientMsgId: 'edit-1', conversationId });
    expect(ack.seq).toBeGreaterThan(target.seq as number);

    const pushed = await b.next((f) => f.type === 'message' && f.clientMsgId === 'edit-1');
    expect(pushed).toMatchObject({
      seq: ack.seq,
      senderId: alice.id,
      contentType: 'edit',
      body: { targetSeq: target.seq, body: { text: 'hello' } },
    });
    const shown = await bySeq(b, conversationId, target.seq as number);
    expect(shown).toMatchObject({ contentType: 'text', body: { text: 'hello' }, editedAt: ack.sentAt });

    // A resend of the edit is answered with the same ack and edits nothing again.
    expect(await edit(a, conversationId, target.seq as number, { text: 'hello' }, 'edit-1')).toEqual(ack);
    expect((await fullHistory(b, conversationId)).map((m) => m.seq)).toEqual([target.seq, ack.seq]);

    // The admin list shows the target as it stands.
    const listed = await ctx.admin(
      'GET',
      `/admin/conversations/${conversationId}/messages?afterSeq=0&limit=10`,
    );
    expect(listed.body.messages[0]).toMatchObject({ body: { text: 'hello' }, editedAt: ack.sentAt });
  });

  it('refuses edits by others, of missing, control and recalled messages, and bodies the target’s type forbids; later sends go on', async () => {
    const { conversationId, a, b } = await pair();
    const target = await sendAndAck(a, conversationId, 'mine');
    const seq = target.seq as number;
    expect(codeOf(await edit(b, conversationId, seq, { text: 'not yours' }))).toBe('forbidden');
    expect(codeOf(await edit(a, conversationId, 999_999, { text: 'x' }))).toBe('not_found');
    expect(codeOf(await edit(a, conversationId, seq, { text: '' }))).toBe('bad_request');
    const firstEdit = await edit(a, conversationId, seq, { text: 'fixed' });
    expect(codeOf(await edit(a, conversationId, firstEdit.seq as number, { text: 'x' }))).toBe('bad_request');
    const recall = await answerOf(a, { type: 'recall', conversationId, targetSeq: seq });
    expect(codeOf(recall)).toBe('ack');
    expect(codeOf(await edit(a, conversationId, seq, { text: 'after recall' }))).toBe('bad_request');
    expect(codeOf(await edit(a, conversationId, recall.seq as number, { text: 'x' }))).toBe('bad_request');
    const outsider = await ctx.connect(await ctx.newUser('eve'));
    const target2 = await sendAndAck(a, conversationId, 'two');
    expect(codeOf(await edit(outsider, conversationId, target2.seq as number, { text: 'x' }))).toBe(
      'forbidden',
    );
    // Nothing in flight was lost: the next send is acked and the timeline is whole.
    const after = await sendAndAck(a, conversationId, 'still here');
    const seqs = (await fullHistory(b, conversationId)).map((m) => m.seq);
    expect(seqs).toEqual([seq, firstEdit.seq, recall.seq, target2.seq, after.seq]);
  });

  it('reactions: two users with the same emoji count two, one user twice counts one, a remove takes theirs away', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol]);
    const [a, b, c] = [
      await ctx.connect(alice),
      await ctx.connect(bob, { gateway: 1 }),
      await ctx.connect(carol),
    ];
    const target = await sendAndAck(a, conversationId, 'vote');
    const seq = target.seq as number;
    // Concurrently, from two gateways.
    const [fromBob, fromCarol] = await Promise.all([
      react(b, conversationId, seq, '👍'),
      react(c, conversationId, seq, '👍'),
    ]);
    expect([codeOf(fromBob), codeOf(fromCarol)]).toEqual(['ack', 'ack']);
    expect(codeOf(await react(b, conversationId, seq, '👍'))).toBe('ack');
    const pushed = await a.next(
      (f) => f.type === 'message' && f.contentType === 'reaction' && f.senderId === bob.id,
    );
    expect(pushed.body).toEqual({ targetSeq: seq, emoji: '👍', op: 'add' });
    let shown = await bySeq(a, conversationId, seq);
    expect(shown?.reactions).toEqual([
      { emoji: '👍', count: 2, userIds: expect.arrayContaining([bob.id, carol.id]) as string[] },
    ]);
    expect(codeOf(await react(b, conversationId, seq, '👍', 'remove'))).toBe('ack');
    expect(codeOf(await react(a, conversationId, seq, '👍', 'remove'))).toBe('ack'); // not theirs: no change
    shown = await bySeq(c, conversationId, seq);
    expect(shown?.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [carol.id] }]);
  });

  it('refuses reactions to missing, control and recalled messages and bad emoji; a recall clears reactions', async () => {
    const { conversationId, a, b } = await pair();
    const target = await sendAndAck(a, conversationId, 'react to me');
    const seq = target.seq as number;
    expect(codeOf(await react(b, conversationId, 999_999, '👍'))).toBe('not_found');
    expect(codeOf(await react(b, conversationId, seq, 'two words'))).toBe('bad_request');
    expect(codeOf(await react(b, conversationId, seq, '👍', 'toggle'))).toBe('bad_request');
    const reaction = await react(b, conversationId, seq, '🎉');
    expect(codeOf(await react(a, conversationId, reaction.seq as number, '👍'))).toBe('bad_request');
    expect(codeOf(await answerOf(a, { type: 'recall', conversationId, targetSeq: seq }))).toBe('ack');
    const recalled = await bySeq(b, conversationId, seq);
    expect(recalled).toMatchObject({ recalled: true, body: {} });
    expect(recalled).not.toHaveProperty('reactions');
    expect(codeOf(await react(b, conversationId, seq, '👍'))).toBe('bad_request');
  });

  it('carries replyTo and mentions on the message; refuses a reply to nothing and mentions of non-members', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol]);
    const [a, b] = [await ctx.connect(alice), await ctx.connect(bob, { gateway: 1 })];
    const target = await sendAndAck(a, conversationId, 'question');
    const send = (extra: object) =>
      answerOf(b, { type: 'send', conversationId, contentType: 'text', body: { text: 'answer' }, ...extra });
    const reply = await send({ replyTo: target.seq, mentions: [alice.id, carol.id] });
    expect(codeOf(reply)).toBe('ack');
    const pushed = await a.next((f) => f.type === 'message' && f.seq === reply.seq);
    expect(pushed).toMatchObject({ replyTo: target.seq, mentions: [alice.id, carol.id] });
    expect(await bySeq(a, conversationId, reply.seq as number)).toMatchObject({ replyTo: target.seq });
    expect(await bySeq(a, conversationId, target.seq as number)).not.toHaveProperty('replyTo');

    expect(codeOf(await send({ replyTo: 999_999 }))).toBe('not_found');
    expect(codeOf(await send({ mentions: ['eve-not-a-member'] }))).toBe('bad_request');
    expect(codeOf(await send({ mentions: [alice.id, alice.id] }))).toBe('bad_request');
    expect(codeOf(await send({ mentions: [] }))).toBe('bad_request');
    expect(codeOf(await send({ mentions: Array.from({ length: 51 }, (_, i) => `u${i}`) }))).toBe(
      'bad_request',
    );
  });

  it('counts unread and mentions in conversations_result from others’ real messages only', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol]);
    const [a, b, c] = [await ctx.connect(alice), await ctx.connect(bob), await ctx.connect(carol)];
    const first = await sendAndAck(a, conversationId, 'hi all');
    expect(
      codeOf(
        await answerOf(a, {
          type: 'send',
          conversationId,
          contentType: 'text',
          body: { text: '@bob' },
          mentions: [bob.id],
        }),
      ),
    ).toBe('ack');
    await react(c, conversationId, first.seq as number, '👋');
    await edit(a, conversationId, first.seq as number, { text: 'hi everyone' });
    await sendAndAck(b, conversationId, 'my own');
    const list = await b.request({ type: 'conversations' });
    const entry = (list.conversations as Frame[]).find((x) => x.conversationId === conversationId);
    expect(entry).toMatchObject({ unread: 2, mentions: 1 });
  });

  it('hide: gone from the user’s history and sync on every device, still there for others', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const phone = await ctx.connect(bob, { gateway: 0 });
    const laptop = await ctx.connect(bob, { gateway: 1 });
    const kept = await sendAndAck(a, conversationId, 'keep');
    const gone = await sendAndAck(a, conversationId, 'hide me');
    const answer = await phone.request({ type: 'hide', conversationId, seq: gone.seq });
    expect(answer).toEqual({ type: 'hide_result', reqId: answer.reqId, conversationId, seq: gone.seq });
    expect((await phone.request({ type: 'hide', conversationId, seq: gone.seq })).type).toBe('hide_result');

    expect((await fullHistory(laptop, conversationId)).map((m) => m.seq)).toEqual([kept.seq]);
    const synced = await drainSync(laptop, { cursors: { [conversationId]: 0 } });
    expect(synced.messages.filter((m) => m.conversationId === conversationId).map((m) => m.seq)).toEqual([
      kept.seq,
    ]);
    expect((await fullHistory(a, conversationId)).map((m) => m.seq)).toEqual([kept.seq, gone.seq]);

    const missing = await phone.request({ type: 'hide', conversationId, seq: 999_999 });
    expect(missing).toMatchObject({ type: 'error', code: 'not_found' });
    const outsider = await ctx.connect(await ctx.newUser('eve'));
    expect(await outsider.request({ type: 'hide', conversationId, seq: kept.seq })).toMatchObject({
      type: 'error',
      code: 'forbidden',
    });
  });
});
