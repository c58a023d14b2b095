import { randomUUID } from 'node:crypto';
import type { TestContext } from '../support/context';
import { fullHistory, isAnswerTo, sendAndAck, sleep, waitFor } from '../support/helpers';
import { type OwnStack, startOwnStack } from '../support/own-stack';
import type { Frame, TestClient } from '../support/test-client';

/**
 * Edits and reactions on a stack of their own: a short edit window, and a kill -9 of storage
 * while an edit and a reaction are on their way.
 */
describe('message actions: the edit window and a storage crash', () => {
  let own: OwnStack | undefined;
  let ctx: TestContext;

  beforeAll(async () => {
    own = await startOwnStack({ name: 'acts', env: { EDIT_WINDOW_SECONDS: '2', KAFKA_PARTITIONS: '2' } });
    ctx = own.ctx;
  });
  afterAll(() => own?.stop());

  function answerOf(client: TestClient, frame: Record<string, unknown>, timeoutMs = 15_000): Promise<Frame> {
    const clientMsgId = frame.clientMsgId as string;
    const from = client.frames.length;
    client.sendRaw(frame);
    return client.next((f) => isAnswerTo(f, clientMsgId), timeoutMs, from);
  }

  it('lets the sender edit within EDIT_WINDOW_SECONDS and refuses the edit after it with forbidden', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const target = await sendAndAck(a, conversationId, 'draft');
    const edit = (text: string, clientMsgId: string = randomUUID()) =>
      answerOf(a, { type: 'edit', clientMsgId, conversationId, targetSeq: target.seq, body: { text } });
    const inTime = await edit('in time', 'edit-in-time');
    expect(inTime.type).toBe('ack');
    await sleep(2500);
    expect(await edit('too late')).toMatchObject({ type: 'error', code: 'forbidden' });
    // G2 outlasts the window: a resend of the edit made in time is answered with its ack.
    expect(await edit('in time', 'edit-in-time')).toEqual(inTime);
    const b = await ctx.connect(bob);
    expect((await fullHistory(b, conversationId))[0]).toMatchObject({ body: { text: 'in time' } });
  });

  it('applies an edit and a reaction sent while storage is killed exactly once, in seq order, on every device', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const phone = await ctx.connect(bob);
    const laptop = await ctx.connect(bob);
    const target = await sendAndAck(a, conversationId, 'before the crash');

    const stack = own!.stack;
    await stack.stopInstance(stack.get('storage', 0), 'SIGKILL');
    const edit = {
      type: 'edit',
      clientMsgId: 'edit-during-crash',
      conversationId,
      targetSeq: target.seq,
      body: { text: 'edited during the crash' },
    };
    const reaction = {
      type: 'react',
      clientMsgId: 'react-during-crash',
      conversationId,
      targetSeq: target.seq,
      emoji: '🔥',
      op: 'add',
    };
    const editAck = answerOf(a, edit, 90_000);
    const reactionAck = answerOf(phone, reaction, 90_000);
    await sleep(1000);
    await stack.restart(stack.get('storage', 0));
    const [e, r] = await Promise.all([editAck, reactionAck]);
    expect([e.type, r.type]).toEqual(['ack', 'ack']);
    // A correct client's resends after the crash get the same acks.
    expect(await answerOf(a, edit)).toEqual(e);
    expect(await answerOf(phone, reaction)).toEqual(r);

    // Every other device gets both, in seq order (copies of a push may repeat, never reorder).
    const controls = (client: TestClient) =>
      client
        .messages(conversationId)
        .filter((f) => f.contentType === 'edit' || f.contentType === 'reaction')
        .map((f) => f.seq as number);
    const firstArrivals = (client: TestClient) => [...new Set(controls(client))];
    const ordered = [e.seq, r.seq].sort((x, y) => (x as number) - (y as number));
    // A device may also be given its own message again (the catch-up pushes what it never
    // acknowledged), so each device must hold what others sent, and hold everything in order.
    await waitFor(() => firstArrivals(laptop).length === 2, 'both pushes on the laptop', 30_000);
    await waitFor(() => firstArrivals(a).includes(r.seq as number), 'the reaction on alice’s device', 30_000);
    await waitFor(() => firstArrivals(phone).includes(e.seq as number), 'the edit on bob’s phone', 30_000);
    for (const client of [laptop, a, phone])
      expect(firstArrivals(client)).toEqual(
        ordered.filter((seq) => firstArrivals(client).includes(seq as number)),
      );
    // Applied once: one edit and one reaction message, the target as they left it, one reactor.
    for (const client of [a, phone, laptop]) {
      const timeline = await fullHistory(client, conversationId);
      expect(timeline.map((m) => m.seq)).toEqual([target.seq, ...ordered]);
      expect(timeline[0]).toMatchObject({
        body: { text: 'edited during the crash' },
        editedAt: e.sentAt,
        reactions: [{ emoji: '🔥', count: 1, userIds: [bob.id] }],
      });
    }
  });
});
