import type { BatchProducer } from '@im/messaging';
import { MessageStoreRepository } from '../../../apps/storage/src/persistence/message-store.repository';
import { PersistBatchUseCase } from '../../../apps/storage/src/persistence/persist-batch.usecase';
import { MediumContext, type MediumUser } from '../support/medium-context';

/** Storage's one statement against the real PostgreSQL: what it writes, what it refuses, what it answers. */
describe('MessageStoreRepository (real PostgreSQL)', () => {
  let ctx: MediumContext;
  let store: MessageStoreRepository;
  let alice: MediumUser;
  let bob: MediumUser;
  let conversationId: string;

  beforeAll(async () => {
    ctx = await MediumContext.create('message-store');
    store = new MessageStoreRepository(ctx.db);
    alice = await ctx.newUser('alice');
    bob = await ctx.newUser('bob');
  });
  beforeEach(async () => {
    conversationId = await ctx.newConversation([alice, bob, await ctx.newUser('carol')]);
  });
  afterAll(() => ctx.close());

  it('stores a batch in one statement and raises the conversation’s last seq', async () => {
    const batch = [1, 2, 3].map(() => ctx.newSequenced(conversationId, alice));
    const outcomes = await store.storeBatch(batch);
    expect(outcomes.map((o) => [o.inserted, Number(o.row?.seq)])).toEqual([
      [true, 1],
      [true, 2],
      [true, 3],
    ]);
    expect((await ctx.conversations.get(conversationId))?.lastSeq).toBe(3);
    expect((await ctx.messages.after(conversationId, 0, 10)).messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('answers a replay with the row stored first, and writes nothing', async () => {
    const message = ctx.newSequenced(conversationId, alice);
    await store.storeBatch([message]);
    const [again] = await store.storeBatch([{ ...message, body: { text: 'changed on the way' } }]);
    expect(again.inserted).toBe(false);
    expect(again.row).toMatchObject({ message_id: message.messageId, body: message.body });
  });

  it('is the backstop when Redis forgot a clientMsgId: the resend under a new seq gets the original', async () => {
    const first = ctx.newSequenced(conversationId, alice);
    await store.storeBatch([first]);
    const resend = ctx.newSequenced(conversationId, alice, { clientMsgId: first.clientMsgId });
    const [outcome] = await store.storeBatch([resend]);
    expect(outcome.inserted).toBe(false);
    expect(Number(outcome.row?.seq)).toBe(first.seq);
    expect(outcome.row?.message_id).toBe(first.messageId);
    expect((await ctx.messages.after(conversationId, 0, 10)).messages).toHaveLength(1);
  });

  it('counts a message that comes twice in one batch as inserted once', async () => {
    const message = ctx.newSequenced(conversationId, alice);
    const outcomes = await store.storeBatch([message, { ...message }]);
    expect(outcomes.map((o) => [o.inserted, o.row?.message_id])).toEqual([
      [true, message.messageId],
      [false, message.messageId],
    ]);
  });

  it('finds no row for a seq that another message holds (never overwrites it)', async () => {
    const first = ctx.newSequenced(conversationId, alice);
    await store.storeBatch([first]);
    const [outcome] = await store.storeBatch([ctx.newSequenced(conversationId, bob, { seq: first.seq })]);
    expect(outcome).toEqual({ row: null, inserted: false });
    expect((await ctx.messages.bySeq(conversationId, first.seq))?.senderId).toBe(alice.id);
  });

  it('blanks a recall’s target in the same transaction as the recall', async () => {
    const target = ctx.newSequenced(conversationId, alice);
    await store.storeBatch([target]);
    const recall = ctx.newSequenced(conversationId, alice, {
      contentType: 'recall',
      body: { targetSeq: target.seq },
    });
    await store.storeBatch([recall]);
    expect(await ctx.messages.rawBySeq(conversationId, target.seq)).toMatchObject({ recalled: true });
    expect(await ctx.messages.rawBySeq(conversationId, recall.seq)).toMatchObject({ recalled: false });
  });

  it('leaves last_message_at alone within 5 s, so raising last_seq stays a HOT update', async () => {
    await store.storeBatch([ctx.newSequenced(conversationId, alice)]);
    const at = async () => {
      const rows = await ctx.db.query<{ last_message_at: Date }[]>(
        `SELECT last_message_at FROM conversations WHERE id = $1`,
        [conversationId],
      );
      return rows[0].last_message_at.getTime();
    };
    const before = await at();
    await store.storeBatch([ctx.newSequenced(conversationId, alice)]);
    expect(await at()).toBe(before);
    expect((await ctx.conversations.get(conversationId))?.lastSeq).toBe(2);
  });

  it.each([
    ['a NUL character', 'a\u0000b'],
    ['a lone surrogate', 'a\ud800b'],
  ])('is refused by PostgreSQL for %s as data (SQLSTATE class 22)', async (_what, text) => {
    const bad = ctx.newSequenced(conversationId, alice, { body: { text } });
    await expect(store.storeBatch([bad])).rejects.toMatchObject({ code: expect.stringMatching(/^22/) });
  });

  it('lets the persist use case store every other row of a batch that holds such a row', async () => {
    const persist = new PersistBatchUseCase(store, {} as BatchProducer);
    const batch = [
      ctx.newSequenced(conversationId, alice),
      ctx.newSequenced(conversationId, alice, { body: { text: 'nul \u0000' } }),
      ctx.newSequenced(conversationId, alice),
      ctx.newSequenced(conversationId, alice, { body: { text: 'surrogate \udc00' } }),
    ];
    const outcomes = await persist.storeIsolatingBadRows(batch);
    expect(outcomes.map((o) => (o.unstorable ? 'unstorable' : o.inserted))).toEqual([
      true,
      'unstorable',
      true,
      'unstorable',
    ]);
    expect((await ctx.messages.after(conversationId, 0, 10)).messages.map((m) => m.seq)).toEqual([1, 3]);
  });
});
