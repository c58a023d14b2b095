import { MessageStoreRepository } from '../../../apps/storage/src/persistence/message-store.repository';
import { MediumContext, type MediumUser } from '../support/medium-context';

/** Delivered and read cursors in PostgreSQL: forward only, capped at the last seq, batched. */
describe('CursorsRepository (real PostgreSQL)', () => {
  let ctx: MediumContext;
  let store: MessageStoreRepository;
  beforeAll(async () => {
    ctx = await MediumContext.create('cursors');
    store = new MessageStoreRepository(ctx.db);
  });
  afterAll(() => ctx.close());

  /** A conversation of `n` members holding `messages` messages of its first member. */
  async function conversationWith(n: number, messages: number) {
    const users: MediumUser[] = [];
    for (let i = 0; i < n; i++) users.push(await ctx.newUser());
    const conversationId = await ctx.newConversation(users, n === 2 ? 'direct' : 'group');
    await store.storeBatch(
      Array.from({ length: messages }, () => ctx.newSequenced(conversationId, users[0])),
    );
    return { users, conversationId };
  }
  const move = (user: MediumUser, deviceId: string, conversationId: string, seq: number) => ({
    userId: user.id,
    deviceId,
    conversationId,
    seq,
  });

  it('moves a device’s and its user’s delivered cursor, returning only what moved, with a direct pair', async () => {
    const { users, conversationId } = await conversationWith(2, 5);
    const bob = users[1];
    expect(await ctx.cursors.advanceDeliveredMany([move(bob, 'phone', conversationId, 3)])).toEqual([
      {
        conversationId,
        userId: bob.id,
        seq: 3,
        conversationType: 'direct',
        directMembers: expect.arrayContaining([users[0].id, bob.id]) as string[],
      },
    ]);
    // Lower or equal: nothing moves, nothing is returned.
    expect(await ctx.cursors.advanceDeliveredMany([move(bob, 'phone', conversationId, 2)])).toEqual([]);
    // Another device below the user's cursor moves its own cursor only.
    expect(await ctx.cursors.advanceDeliveredMany([move(bob, 'laptop', conversationId, 1)])).toEqual([]);
    expect(await ctx.cursors.deviceCursors([bob.id])).toEqual(
      expect.arrayContaining([
        { userId: bob.id, deviceId: 'phone', conversationId, deliveredSeq: 3 },
        { userId: bob.id, deviceId: 'laptop', conversationId, deliveredSeq: 1 },
      ]),
    );
  });

  it('caps a cursor at the conversation’s last seq, so a bogus ack cannot hide future messages', async () => {
    const { users, conversationId } = await conversationWith(3, 4);
    const [moved] = await ctx.cursors.advanceDeliveredMany([move(users[1], 'phone', conversationId, 1_000)]);
    expect(moved).toMatchObject({ seq: 4, conversationType: 'group', directMembers: [] });
    const [read] = await ctx.cursors.advanceReadMany([{ userId: users[1].id, conversationId, seq: 99 }]);
    expect(read).toMatchObject({ seq: 4 });
  });

  it('takes the highest of several reads of one user in a batch, and never moves a read cursor back', async () => {
    const { users, conversationId } = await conversationWith(3, 6);
    const reader = users[2];
    const moved = await ctx.cursors.advanceReadMany([
      { userId: reader.id, conversationId, seq: 2 },
      { userId: reader.id, conversationId, seq: 5 },
    ]);
    expect(moved.map((m) => m.seq)).toEqual([5]);
    expect(await ctx.cursors.advanceReadMany([{ userId: reader.id, conversationId, seq: 3 }])).toEqual([]);
    expect(await ctx.cursors.forConversation(conversationId)).toEqual(
      expect.arrayContaining([{ userId: reader.id, deliveredSeq: 0, readSeq: 5 }]),
    );
  });

  it('counts the other members’ delivered and read state at a seq, listing them only up to the limit', async () => {
    const { users, conversationId } = await conversationWith(4, 3);
    const [viewer, b, c, d] = users;
    await ctx.cursors.advanceDeliveredMany([
      move(b, 'p', conversationId, 3),
      move(c, 'p', conversationId, 1),
    ]);
    await ctx.cursors.advanceReadMany([{ userId: b.id, conversationId, seq: 2 }]);
    const listed = await ctx.receipts.at(conversationId, viewer.id, 2, 200);
    expect(listed).toMatchObject({ members: 3, delivered: 1, read: 1 });
    expect(listed.users).toEqual(
      expect.arrayContaining([
        { userId: b.id, deliveredSeq: 3, readSeq: 2 },
        { userId: c.id, deliveredSeq: 1, readSeq: 0 },
        { userId: d.id, deliveredSeq: 0, readSeq: 0 },
      ]),
    );
    // Four members in all is over a limit of 3: counts only.
    expect(await ctx.receipts.at(conversationId, viewer.id, 2, 3)).toEqual({
      members: 3,
      delivered: 1,
      read: 1,
    });
  });

  it('lists the members of recently active conversations for the catch-up', async () => {
    const { users, conversationId } = await conversationWith(3, 1);
    const active = await ctx.cursors.activeMemberships(60, 1000);
    expect(active.filter((m) => m.conversationId === conversationId)).toEqual(
      expect.arrayContaining(users.map((u) => ({ conversationId, userId: u.id, lastSeq: 1 }))),
    );
  });
});
