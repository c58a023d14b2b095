import { setup } from '../support/context';
import { framesDuring, sendMany, waitFor } from '../support/helpers';
import { Frame } from '../support/test-client';

const isReceipt = (f: Frame) => f.type === 'receipt';

/**
 * Group receipts by query, not push (docs/protocol.md §3 `receipts`, §4 `receipt`, `receipts_result`):
 * a group's cost grows with its members, not with their square.
 */
describe('group receipts', () => {
  const ctx = setup();

  /** Waits until the admin view shows every listed cursor (independent of any push). */
  const cursorsStored = (
    messageId: string,
    expected: Record<string, { deliveredSeq?: number; readSeq?: number }>,
  ) =>
    waitFor(async () => {
      const res = await ctx.admin('GET', `/admin/messages/${messageId}`);
      const members = (res.body?.members ?? []) as Frame[];
      return Object.entries(expected).every(([userId, want]) =>
        members.some(
          (m) =>
            m.userId === userId &&
            (want.deliveredSeq === undefined || m.deliveredSeq >= want.deliveredSeq) &&
            (want.readSeq === undefined || m.readSeq >= want.readSeq),
        ),
      );
    }, 'the members’ cursors');

  it('pushes no receipt of a group deliver_ack to anyone, and a group read only to the reader’s other devices', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol], 'group');
    const a = await ctx.connect(alice, { gateway: 0 });
    const b1 = await ctx.connect(bob, { gateway: 1 });
    const b2 = await ctx.connect(bob, { gateway: 0 });
    const c = await ctx.connect(carol, { gateway: 1 });
    const [, last] = await sendMany(a, conversationId, 2, 'grp');

    b1.sendRaw({ type: 'deliver_ack', conversationId, seq: last.seq });
    c.sendRaw({ type: 'deliver_ack', conversationId, seq: last.seq });
    await cursorsStored(last.messageId, {
      [bob.id]: { deliveredSeq: last.seq },
      [carol.id]: { deliveredSeq: last.seq },
    });

    b1.sendRaw({ type: 'read', conversationId, seq: last.seq });
    expect(await b2.next(isReceipt)).toEqual({
      type: 'receipt',
      conversationId,
      kind: 'read',
      userId: bob.id,
      seq: last.seq,
    });
    await cursorsStored(last.messageId, { [bob.id]: { readSeq: last.seq } });
    // Nobody else hears of either: not the sender, not the other member, not the reading device.
    expect(await framesDuring(a, isReceipt, 1000, 0)).toEqual([]);
    expect(c.frames.filter(isReceipt)).toEqual([]);
    expect(b1.frames.filter(isReceipt)).toEqual([]);
  });

  it('answers receipts with counts and each other member’s cursors in a small group', async () => {
    const [alice, bob, carol, dave] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave'].map((n) => ctx.newUser(n)),
    );
    const conversationId = await ctx.newConversation([alice, bob, carol, dave], 'group');
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob);
    const c = await ctx.connect(carol);
    const [first, second] = await sendMany(a, conversationId, 2, 'rcpt');
    b.sendRaw({ type: 'deliver_ack', conversationId, seq: second.seq });
    b.sendRaw({ type: 'read', conversationId, seq: first.seq });
    c.sendRaw({ type: 'deliver_ack', conversationId, seq: first.seq });
    await cursorsStored(second.messageId, {
      [bob.id]: { deliveredSeq: second.seq, readSeq: first.seq },
      [carol.id]: { deliveredSeq: first.seq },
    });

    const atFirst = await a.request({ type: 'receipts', reqId: 'r-1', conversationId, seq: first.seq });
    expect(atFirst).toEqual({
      type: 'receipts_result',
      reqId: 'r-1',
      conversationId,
      seq: first.seq,
      members: 3,
      delivered: 2,
      read: 1,
      users: expect.any(Array),
    });
    expect([...atFirst.users].sort((x: Frame, y: Frame) => x.userId.localeCompare(y.userId))).toEqual(
      [
        { userId: bob.id, deliveredSeq: second.seq, readSeq: first.seq },
        { userId: carol.id, deliveredSeq: first.seq, readSeq: 0 },
        { userId: dave.id, deliveredSeq: 0, readSeq: 0 },
      ].sort((x, y) => x.userId.localeCompare(y.userId)),
    );
    const atSecond = await a.request({ type: 'receipts', reqId: 'r-2', conversationId, seq: second.seq });
    expect(atSecond).toMatchObject({ members: 3, delivered: 1, read: 0 });
    // Any member may ask; the asker is not among the counted.
    const asBob = await b.request({ type: 'receipts', reqId: 'r-3', conversationId, seq: first.seq });
    expect(asBob).toMatchObject({ members: 3, delivered: 1, read: 0 });
  });

  it('answers counts only for a group of more than 200 members', async () => {
    const users = [];
    for (let i = 0; i < 201; i++) users.push(await ctx.newUser(`big${i}`));
    const conversationId = await ctx.newConversation(users, 'group');
    const a = await ctx.connect(users[0]);
    const b = await ctx.connect(users[1]);
    const [sent] = await sendMany(a, conversationId, 1, 'big');
    b.sendRaw({ type: 'deliver_ack', conversationId, seq: sent.seq });
    await cursorsStored(sent.messageId, { [users[1].id]: { deliveredSeq: sent.seq } });
    const answer = await a.request({ type: 'receipts', reqId: 'big-1', conversationId, seq: sent.seq });
    expect(answer).toEqual({
      type: 'receipts_result',
      reqId: 'big-1',
      conversationId,
      seq: sent.seq,
      members: 200,
      delivered: 1,
      read: 0,
    });
  }, 120_000);

  it('refuses receipts to a non-member (forbidden) and for a seq that names no message (not_found)', async () => {
    const [alice, bob, mallory] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('mallory'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, await ctx.newUser('carol')], 'group');
    await ctx.newConversation([mallory, bob]);
    const a = await ctx.connect(alice);
    const m = await ctx.connect(mallory);
    const [sent] = await sendMany(a, conversationId, 1, 'iso');
    expect(await m.request({ type: 'receipts', reqId: 'm-1', conversationId, seq: sent.seq })).toMatchObject({
      type: 'error',
      ref: 'm-1',
      code: 'forbidden',
    });
    expect(
      await a.request({ type: 'receipts', reqId: 'a-1', conversationId, seq: sent.seq + 100 }),
    ).toMatchObject({
      type: 'error',
      ref: 'a-1',
      code: 'not_found',
    });
  });
});
