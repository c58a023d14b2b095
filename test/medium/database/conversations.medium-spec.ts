import { MessageStoreRepository } from '../../../apps/storage/src/persistence/message-store.repository';
import { MediumContext } from '../support/medium-context';

/** Conversations, members and what a user's conversation list shows, against the real PostgreSQL. */
describe('ConversationsRepository and MessagesRepository (real PostgreSQL)', () => {
  let ctx: MediumContext;
  let store: MessageStoreRepository;
  beforeAll(async () => {
    ctx = await MediumContext.create('conversations');
    store = new MessageStoreRepository(ctx.db);
  });
  afterAll(() => ctx.close());

  it('makes one direct conversation per pair, however many ask for it at once and in which order', async () => {
    const [a, b] = [await ctx.newUser(), await ctx.newUser()];
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        ctx.conversations.findOrCreateDirect(
          `id-${i}-${a.id}`,
          i % 2 ? a.id : b.id,
          i % 2 ? b.id : a.id,
          null,
        ),
      ),
    );
    expect(new Set(results.map((r) => r.conversation.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results[0].conversation.memberIds.sort()).toEqual([a.id, b.id].sort());
  });

  it('adds and removes members, and says whether a removal removed anyone', async () => {
    const [a, b, c] = [await ctx.newUser(), await ctx.newUser(), await ctx.newUser()];
    const id = await ctx.newConversation([a, b, c]);
    const d = await ctx.newUser();
    await ctx.conversations.addMembers(id, [d.id, a.id]);
    expect((await ctx.conversations.memberIds(id)).sort()).toEqual([a.id, b.id, c.id, d.id].sort());
    expect(await ctx.conversations.removeMember(id, b.id)).toBe(true);
    expect(await ctx.conversations.removeMember(id, b.id)).toBe(false);
  });

  it('lists a user’s conversations most recent first, counting unread messages of others and no recalls', async () => {
    const [me, other, third] = [await ctx.newUser(), await ctx.newUser(), await ctx.newUser()];
    const older = await ctx.newConversation([me, other, third]);
    const newer = await ctx.newConversation([me, third]);
    await store.storeBatch([
      ctx.newSequenced(older, other),
      ctx.newSequenced(older, me),
      ctx.newSequenced(older, other),
    ]);
    await store.storeBatch([
      ctx.newSequenced(older, other, { contentType: 'recall', body: { targetSeq: 1 } }),
    ]);
    await new Promise((r) => setTimeout(r, 5));
    await store.storeBatch([ctx.newSequenced(newer, third)]);
    const list = await ctx.conversationList.forUser(me.id);
    expect(list.map((c) => [c.conversationId, c.lastSeq, c.unread])).toEqual([
      [newer, 1, 1],
      [older, 4, 2],
    ]);
    expect(list[0].lastMessage).toMatchObject({ seq: 1, senderId: third.id });
  });

  it('pages a conversation’s messages both ways with an exact hasMore', async () => {
    const [a, b] = [await ctx.newUser(), await ctx.newUser()];
    const id = await ctx.newConversation([a, b]);
    await store.storeBatch(Array.from({ length: 5 }, () => ctx.newSequenced(id, a)));
    const first = await ctx.messages.after(id, 0, 2);
    expect([first.messages.map((m) => m.seq), first.hasMore]).toEqual([[1, 2], true]);
    const last = await ctx.messages.after(id, 3, 2);
    expect([last.messages.map((m) => m.seq), last.hasMore]).toEqual([[4, 5], false]);
    const back = await ctx.messages.before(id, 5, 3);
    expect([back.messages.map((m) => m.seq), back.hasMore]).toEqual([[2, 3, 4], true]);
  });

  it('gives each of a user’s conversations this device’s delivered cursor, in sync order', async () => {
    const [a, b, c] = [await ctx.newUser(), await ctx.newUser(), await ctx.newUser()];
    const one = await ctx.newConversation([a, b]);
    const two = await ctx.newConversation([a, c]);
    await store.storeBatch([ctx.newSequenced(one, b), ctx.newSequenced(one, b), ctx.newSequenced(two, c)]);
    await ctx.cursors.advanceDeliveredMany([
      { userId: a.id, deviceId: 'phone', conversationId: one, seq: 1 },
    ]);
    const memberships = await ctx.conversations.membershipsForDevice(a.id, 'phone');
    expect(memberships).toEqual(
      [
        { conversationId: one, lastSeq: 2, deliveredSeq: 1 },
        { conversationId: two, lastSeq: 1, deliveredSeq: 0 },
      ].sort((x, y) => (x.conversationId < y.conversationId ? -1 : 1)),
    );
  });
});
