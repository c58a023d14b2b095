import { HiddenMessagesRepository } from '@im/database';
import type { SequencedMessage } from '@im/messaging';
import { MessageStoreRepository } from '../../../apps/storage/src/persistence/message-store.repository';
import { MediumContext, type MediumUser } from '../support/medium-context';

/**
 * Edits, reactions, replies, mentions and hiding against the real PostgreSQL: what storage
 * writes in one transaction with the control message, and what history, sync and the
 * conversation list then show.
 */
describe('message actions (real PostgreSQL)', () => {
  let ctx: MediumContext;
  let store: MessageStoreRepository;
  let hidden: HiddenMessagesRepository;
  let alice: MediumUser;
  let bob: MediumUser;
  let carol: MediumUser;
  let conversationId: string;

  beforeAll(async () => {
    ctx = await MediumContext.create('message-actions');
    store = new MessageStoreRepository(ctx.db);
    hidden = new HiddenMessagesRepository(ctx.db);
    [alice, bob, carol] = [await ctx.newUser('alice'), await ctx.newUser('bob'), await ctx.newUser('carol')];
  });
  beforeEach(async () => {
    conversationId = await ctx.newConversation([alice, bob, carol]);
  });
  afterAll(() => ctx.close());

  const text = (sender: MediumUser, overrides: Partial<SequencedMessage> = {}) =>
    ctx.newSequenced(conversationId, sender, overrides);
  const edit = (sender: MediumUser, targetSeq: number, body: Record<string, unknown>) =>
    ctx.newSequenced(conversationId, sender, { contentType: 'edit', body: { targetSeq, body } });
  const react = (sender: MediumUser, targetSeq: number, emoji: string, op: 'add' | 'remove' = 'add') =>
    ctx.newSequenced(conversationId, sender, { contentType: 'reaction', body: { targetSeq, emoji, op } });
  const recall = (sender: MediumUser, targetSeq: number) =>
    ctx.newSequenced(conversationId, sender, { contentType: 'recall', body: { targetSeq } });
  const target = async (seq: number, viewer?: string) =>
    (await ctx.messages.after(conversationId, seq - 1, 1, viewer)).messages[0];

  it('an edit replaces the target’s body and sets editedAt to the edit’s time; the newest edit wins', async () => {
    const original = text(alice);
    await store.storeBatch([original]);
    const first = edit(alice, original.seq, { text: 'first fix' });
    const second = { ...edit(alice, original.seq, { text: 'second fix' }), sentAt: first.sentAt + 5 };
    await store.storeBatch([first, second]);
    const view = await target(original.seq);
    expect(view.body).toEqual({ text: 'second fix' });
    expect(view.editedAt).toBe(second.sentAt);
    expect(view.contentType).toBe('text');
  });

  it('a replayed edit changes nothing again, and an edit by someone else changes nothing', async () => {
    const original = text(alice);
    const fix = edit(alice, original.seq, { text: 'fix' });
    await store.storeBatch([original, fix]);
    await store.storeBatch([edit(alice, original.seq, { text: 'later' })]);
    await store.storeBatch([fix]); // replay of the first edit: already applied
    expect((await target(original.seq)).body).toEqual({ text: 'later' });
    await store.storeBatch([edit(bob, original.seq, { text: 'forged' })]);
    expect((await target(original.seq)).body).toEqual({ text: 'later' });
  });

  it('reactions: one user once per emoji, two users count two, a remove takes only that user’s away', async () => {
    const original = text(alice);
    await store.storeBatch([original]);
    await store.storeBatch([react(bob, original.seq, '👍'), react(carol, original.seq, '👍')]);
    await store.storeBatch([react(bob, original.seq, '👍'), react(bob, original.seq, '🎉')]);
    expect((await target(original.seq)).reactions).toEqual([
      { emoji: '👍', count: 2, userIds: [bob.id, carol.id] },
      { emoji: '🎉', count: 1, userIds: [bob.id] },
    ]);
    await store.storeBatch([
      react(bob, original.seq, '👍', 'remove'),
      react(alice, original.seq, '🎉', 'remove'),
    ]);
    expect((await target(original.seq)).reactions).toEqual([
      { emoji: '👍', count: 1, userIds: [carol.id] },
      { emoji: '🎉', count: 1, userIds: [bob.id] },
    ]);
    await store.storeBatch([
      react(carol, original.seq, '👍', 'remove'),
      react(bob, original.seq, '🎉', 'remove'),
    ]);
    expect(await target(original.seq)).not.toHaveProperty('reactions');
  });

  it('names at most 20 users per emoji, the first to react', async () => {
    const original = text(alice);
    await store.storeBatch([original]);
    const reactors = [];
    for (let i = 0; i < 22; i++) reactors.push(await ctx.newUser('fan'));
    await store.storeBatch(reactors.map((u) => react(u, original.seq, '❤️')));
    const [summary] = (await target(original.seq)).reactions!;
    expect(summary.count).toBe(22);
    expect(summary.userIds).toEqual(reactors.slice(0, 20).map((u) => u.id));
  });

  it('a recall clears the target’s reactions, and later edits and reactions change nothing', async () => {
    const original = text(alice);
    await store.storeBatch([original, react(bob, original.seq, '👍')]);
    await store.storeBatch([recall(alice, original.seq)]);
    await store.storeBatch([
      edit(alice, original.seq, { text: 'too late' }),
      react(carol, original.seq, '👍'),
    ]);
    const view = await target(original.seq);
    expect(view).toMatchObject({ recalled: true, body: {} });
    expect(view).not.toHaveProperty('reactions');
    expect(view).not.toHaveProperty('editedAt');
    const left: { n: number }[] = await ctx.db.query(
      `SELECT count(*)::int AS n FROM message_reactions WHERE conversation_id = $1`,
      [conversationId],
    );
    expect(left[0].n).toBe(0);
  });

  it('a control message never acts on another control message', async () => {
    const original = text(alice);
    const reaction = react(bob, original.seq, '👍');
    await store.storeBatch([original, reaction]);
    await store.storeBatch([react(carol, reaction.seq, '👍'), recall(bob, reaction.seq)]);
    const view = await target(reaction.seq);
    expect(view).not.toHaveProperty('recalled');
    expect(view).not.toHaveProperty('reactions');
  });

  it('if the control message cannot be stored, its effect is not either', async () => {
    const original = text(alice);
    await store.storeBatch([original]);
    const fix = edit(alice, original.seq, { text: 'fix' });
    // PostgreSQL refuses one row of the batch (a NUL in jsonb): the whole transaction fails.
    const unstorable = text(bob, { body: { text: 'a\u0000b' } });
    await expect(store.storeBatch([fix, unstorable])).rejects.toThrow();
    expect(await ctx.messages.bySeq(conversationId, fix.seq)).toBeNull();
    expect((await target(original.seq)).body).toEqual(original.body);
  });

  it('stores a reply and mentions, and shows them only on the messages that have them', async () => {
    const original = text(alice);
    const reply = text(bob, { replyTo: original.seq, mentions: [alice.id, carol.id] });
    await store.storeBatch([original, reply]);
    expect(await target(reply.seq)).toMatchObject({ replyTo: original.seq, mentions: [alice.id, carol.id] });
    expect(await target(original.seq)).not.toHaveProperty('replyTo');
    expect(await target(original.seq)).not.toHaveProperty('mentions');
  });

  it('hides a message from its user’s history and sync pages only, and paging still covers the rest', async () => {
    const batch = [1, 2, 3, 4, 5].map(() => text(alice));
    await store.storeBatch(batch);
    await hidden.hide(bob.id, conversationId, 2);
    await hidden.hide(bob.id, conversationId, 2); // again: nothing changes
    await hidden.hide(bob.id, conversationId, 4);
    const first = await ctx.messages.after(conversationId, 0, 2, bob.id);
    expect([first.messages.map((m) => m.seq), first.hasMore]).toEqual([[1, 3], true]);
    const rest = await ctx.messages.after(conversationId, 3, 2, bob.id);
    expect([rest.messages.map((m) => m.seq), rest.hasMore]).toEqual([[5], false]);
    expect((await ctx.messages.before(conversationId, 6, 10, bob.id)).messages.map((m) => m.seq)).toEqual([
      1, 3, 5,
    ]);
    expect((await ctx.messages.after(conversationId, 0, 10, carol.id)).messages).toHaveLength(5);
    expect((await ctx.messages.after(conversationId, 0, 10)).messages).toHaveLength(5);
  });

  it('counts unread as others’ messages that say something, and mentions of the user among them', async () => {
    const original = text(alice);
    await store.storeBatch([
      original,
      text(alice, { mentions: [bob.id] }),
      text(carol, { mentions: [alice.id, bob.id] }),
      text(bob),
      react(alice, original.seq, '👍'),
      edit(alice, original.seq, { text: 'edited' }),
      recall(carol, original.seq + 2),
    ]);
    const forBob = (await ctx.conversationList.forUser(bob.id)).find(
      (c) => c.conversationId === conversationId,
    );
    expect(forBob).toMatchObject({ unread: 3, mentions: 2, readSeq: 0 });
    const forAlice = (await ctx.conversationList.forUser(alice.id)).find(
      (c) => c.conversationId === conversationId,
    );
    expect(forAlice).toMatchObject({ unread: 2, mentions: 1 });
  });
});
