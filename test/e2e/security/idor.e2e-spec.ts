import { randomUUID } from 'node:crypto';
import { setup } from '../../support/context';
import { Frame, TestClient } from '../../support/test-client';
import {
  autoDeliverAck,
  drainSync,
  framesDuring,
  fullHistory,
  isAnswerTo,
  sendAndAck,
  upgradeStatus,
} from '../../support/helpers';

/**
 * G6 against a user who names other people's conversations in every frame type: the answer is
 * `forbidden` (a conversation that does not exist is answered the same way, so the answer is
 * no existence oracle), it carries nothing of the conversation, and the victims see nothing.
 */
describe('security: a user naming another’s conversation in any frame (IDOR)', () => {
  const ctx = setup();
  const secret = `secret-${randomUUID()}`;
  let victimConversation: string;
  let ownConversation: string;
  let aliceAck: Frame;
  let alice: TestClient;
  let bob: TestClient;
  let mallory: TestClient;
  let victimIds: string[];
  const ghost = `ghost-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    const [a, b, m, t] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('mallory'),
      await ctx.newUser('trent'),
    ];
    victimIds = [a.id, b.id];
    victimConversation = await ctx.newConversation([a, b]);
    ownConversation = await ctx.newConversation([m, t]);
    alice = await ctx.connect(a, { gateway: 0 });
    bob = await ctx.connect(b, { gateway: 1 });
    autoDeliverAck(alice);
    autoDeliverAck(bob);
    mallory = await ctx.connect(m, { gateway: 1 });
    aliceAck = await sendAndAck(alice, victimConversation, secret);
    await bob.next((f) => f.type === 'message' && f.seq === aliceAck.seq);
    // Bob's own delivered receipt reaches Alice before the attack starts.
    await alice.next((f) => f.type === 'receipt' && f.userId === b.id && f.seq === aliceAck.seq);
  });

  /** Frames a victim got from index `from` on, other than pongs and the victims' own traffic. */
  const caused = (client: TestClient, from: number) =>
    client.frames
      .slice(from)
      .filter(
        (f) =>
          f.type !== 'pong' &&
          !(f.type === 'message' && f.messageId === aliceAck.messageId) &&
          !(f.type === 'receipt' && victimIds.includes(f.userId as string)),
      );

  /** The answer to a frame carrying a clientMsgId or reqId. */
  async function answerTo(frame: Frame, id: string): Promise<Frame> {
    const from = mallory.frames.length;
    mallory.sendRaw(frame);
    return mallory.next((f) => isAnswerTo(f, id) || f.reqId === id, 10_000, from);
  }

  /** The next error after a frame without ids. */
  async function errorAfter(frame: Frame): Promise<Frame> {
    const from = mallory.frames.length;
    mallory.sendRaw(frame);
    return mallory.next((f) => f.type === 'error', 10_000, from);
  }

  /** Every frame type naming `conversationId`, with the answer it got. */
  async function attack(conversationId: string, tag: string): Promise<Record<string, Frame>> {
    const seq = aliceAck.seq as number;
    return {
      send: await answerTo(
        {
          type: 'send',
          clientMsgId: `${tag}-send`,
          conversationId,
          contentType: 'text',
          body: { text: 'injected' },
        },
        `${tag}-send`,
      ),
      sendCustom: await answerTo(
        {
          type: 'send',
          clientMsgId: `${tag}-custom`,
          conversationId,
          contentType: 'custom',
          body: { any: 'thing' },
        },
        `${tag}-custom`,
      ),
      recall: await answerTo(
        { type: 'recall', clientMsgId: `${tag}-recall`, conversationId, targetSeq: seq },
        `${tag}-recall`,
      ),
      historyAfter: await answerTo(
        { type: 'history', reqId: `${tag}-ha`, conversationId, afterSeq: 0 },
        `${tag}-ha`,
      ),
      historyBefore: await answerTo(
        { type: 'history', reqId: `${tag}-hb`, conversationId, beforeSeq: seq + 1, limit: 200 },
        `${tag}-hb`,
      ),
      syncOnly: await answerTo(
        { type: 'sync', reqId: `${tag}-s1`, cursors: { [conversationId]: 0 } },
        `${tag}-s1`,
      ),
      syncMixed: await answerTo(
        {
          type: 'sync',
          reqId: `${tag}-s2`,
          cursors: { [ownConversation]: 0, [conversationId]: 0 },
          limit: 1,
        },
        `${tag}-s2`,
      ),
      read: await errorAfter({ type: 'read', conversationId, seq }),
      deliverAck: await errorAfter({ type: 'deliver_ack', conversationId, seq }),
      typing: await errorAfter({ type: 'typing', conversationId }),
    };
  }

  it('answers every frame type with `forbidden`, for a real and for a non-existent conversation alike, and leaks nothing', async () => {
    const aliceFrom = alice.frames.length;
    const bobFrom = bob.frames.length;
    const real = await attack(victimConversation, 'idor');
    const none = await attack(ghost, 'ghost');

    for (const [kind, answer] of Object.entries(real)) {
      expect({ kind, answer }).toEqual({
        kind,
        answer: {
          type: 'error',
          ...(answer.ref !== undefined ? { ref: expect.any(String) } : {}),
          code: 'forbidden',
          message: expect.any(String),
        },
      });
      // Indistinguishable from a conversation that does not exist.
      const other = none[kind];
      expect({ kind, code: other.code }).toEqual({ kind, code: answer.code });
      expect({ kind, message: other.message.split(ghost).join('<id>') }).toEqual({
        kind,
        message: answer.message.split(victimConversation).join('<id>'),
      });
      // Nothing of the conversation in it: not the text, the message id, nor the members.
      const text = JSON.stringify(answer);
      for (const leak of [secret, aliceAck.messageId as string, ...victimIds])
        expect({ kind, leaks: text.includes(leak) }).toEqual({ kind, leaks: false });
    }
    expect(mallory.closeCode).toBeUndefined();

    // The victims saw nothing: no message, receipt or typing from any of it.
    await framesDuring(bob, () => false, 1_500);
    expect(caused(bob, bobFrom)).toEqual([]);
    expect(caused(alice, aliceFrom)).toEqual([]);
    // The timeline and the cursors are untouched.
    const timeline = await fullHistory(alice, victimConversation);
    expect(timeline.map((m) => [m.messageId, m.body, m.recalled ?? false])).toEqual([
      [aliceAck.messageId, { text: secret }, false],
    ]);
    const view = await ctx.admin('GET', `/admin/conversations/${victimConversation}`);
    expect(view.body).toMatchObject({ lastSeq: aliceAck.seq });
    expect([...view.body.memberIds].sort()).toEqual([...victimIds].sort());
    const cursors = await ctx.admin('GET', `/admin/messages/${aliceAck.messageId}`);
    expect(cursors.body.members.map((m: Frame) => m.userId).sort()).toEqual([...victimIds].sort());
    // A ghost conversation was not created by being named.
    expect((await ctx.admin('GET', `/admin/conversations/${ghost}`)).status).toBe(404);
  });

  it('gives the attacker nothing in their own views either', async () => {
    const synced = await drainSync(mallory);
    expect(synced.messages.filter((m) => m.conversationId !== ownConversation)).toEqual([]);
    expect(Object.keys(synced.cursors)).not.toContain(victimConversation);
    const list = await mallory.request({ type: 'conversations', reqId: 'idor-list' });
    expect((list.conversations as Frame[]).map((c) => c.conversationId)).toEqual([ownConversation]);
    expect(JSON.stringify(mallory.frames)).not.toContain(secret);
  });

  it('refuses fields that would speak for someone else (senderId, userId, seq, messageId) with bad_request', async () => {
    const base = {
      type: 'send',
      conversationId: ownConversation,
      contentType: 'text',
      body: { text: 'who am i' },
    };
    for (const extra of [
      { senderId: victimIds[0] },
      { userId: victimIds[0] },
      { seq: 1 },
      { messageId: randomUUID() },
      { sentAt: 0 },
    ]) {
      const id = `spoof-${randomUUID().slice(0, 8)}`;
      expect(await answerTo({ ...base, clientMsgId: id, ...extra }, id)).toMatchObject({
        type: 'error',
        ref: id,
        code: 'bad_request',
      });
    }
    expect(
      await errorAfter({ type: 'typing', conversationId: ownConversation, userId: victimIds[0] }),
    ).toMatchObject({
      code: 'bad_request',
    });
    expect(
      await errorAfter({ type: 'read', conversationId: ownConversation, seq: 0, userId: victimIds[0] }),
    ).toMatchObject({ code: 'bad_request' });
    expect(
      await errorAfter({ type: 'deliver_ack', conversationId: ownConversation, seq: 0, deviceId: 'x' }),
    ).toMatchObject({ code: 'bad_request' });
    // Nothing of it was stored.
    expect(await fullHistory(mallory, ownConversation)).toEqual([]);
  });

  it('refuses to recall another member’s message in a shared conversation', async () => {
    const [u, v] = [await ctx.newUser('author'), await ctx.newUser('member')];
    const conversationId = await ctx.newConversation([u, v, await ctx.newUser('third')], 'group');
    const author = await ctx.connect(u);
    const member = await ctx.connect(v, { gateway: 1 });
    const original = await sendAndAck(author, conversationId, 'mine, not yours');
    const id = `recall-${randomUUID().slice(0, 8)}`;
    member.sendRaw({ type: 'recall', clientMsgId: id, conversationId, targetSeq: original.seq });
    expect(await member.ackOf(id)).toMatchObject({ type: 'error', ref: id, code: 'forbidden' });
    const timeline = await fullHistory(author, conversationId);
    expect(timeline.map((m) => [m.seq, m.contentType, m.recalled ?? false, m.body])).toEqual([
      [original.seq, 'text', false, { text: 'mine, not yours' }],
    ]);
  });

  it('does not let a token for the reserved `system` identity send into conversations it is not a member of', async () => {
    const [a, b] = [await ctx.newUser('sys-victim-a'), await ctx.newUser('sys-victim-b')];
    const conversationId = await ctx.newConversation([a, b]);
    const watcher = await ctx.connect(b);
    // An app server asking the admin API for a token of user id `system` (e.g. a user who
    // registered that name) must not get a credential that bypasses membership.
    const issued = await ctx.admin('POST', '/admin/users/system/tokens', {});
    if (issued.status !== 201) {
      expect([400, 403, 404, 409, 422]).toContain(issued.status);
      return;
    }
    const token = issued.body.token as string;
    const upgrade = await upgradeStatus(ctx.gateway(0), { deviceId: 'sys-dev', token });
    if (upgrade !== 101) {
      expect(upgrade).toBe(401);
      return;
    }
    const impostor = await ctx.connect({ id: 'system', token }, { deviceId: 'sys-dev' });
    const id = `sys-${randomUUID().slice(0, 8)}`;
    impostor.send(conversationId, 'official notice: your account is locked, log in at evil.example', id);
    const answer = await impostor.ackOf(id, 10_000);
    const pushed = await framesDuring(watcher, (f) => f.type === 'message', 1_000);
    expect({ answer: answer.type, code: answer.code, pushedToVictim: pushed.length }).toEqual({
      answer: 'error',
      code: 'forbidden',
      pushedToVictim: 0,
    });
  });
});
