import { Client } from 'pg';
import { AppConfig } from '@im/config';
import { HiddenMessagesRepository } from '@im/database';
import type { SequencedMessage } from '@im/messaging';
import { MessageStoreRepository } from '../../../apps/storage/src/persistence/message-store.repository';
import { DAY_MS } from '../../../apps/storage/src/retention/retention-policy';
import { RetentionSweepUseCase } from '../../../apps/storage/src/retention/retention-sweep.usecase';
import { RetentionRepository } from '../../../apps/storage/src/retention/retention.repository';
import { SweepLock, SWEEP_LOCK_KEY } from '../../../apps/storage/src/retention/sweep-lock';
import { MediumContext, type MediumUser } from '../support/medium-context';

/**
 * The retention sweep against the real PostgreSQL: expired messages go in batches, with the
 * reactions to them and the marks of users who hid them; recent ones, and conversations whose
 * own retention is longer, stay; lastSeq and the numbering of new messages do not change.
 */
describe('retention sweep (real PostgreSQL)', () => {
  let ctx: MediumContext;
  let store: MessageStoreRepository;
  let hidden: HiddenMessagesRepository;
  let alice: MediumUser;
  let bob: MediumUser;
  const now = Date.now();

  beforeAll(async () => {
    ctx = await MediumContext.create('retention-sweep');
    store = new MessageStoreRepository(ctx.db);
    hidden = new HiddenMessagesRepository(ctx.db);
    [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
  });
  afterAll(() => ctx.close());

  const sweeper = (settings: Partial<AppConfig>) =>
    new RetentionSweepUseCase(
      new SweepLock(ctx.db),
      new RetentionRepository(),
      Object.assign(
        new AppConfig(),
        ctx.config,
        { RETENTION_BATCH_SIZE: 3, RETENTION_BATCH_PAUSE_MS: 0 },
        settings,
      ),
    );
  const daysAgo = (days: number) => now - days * DAY_MS;
  /** `count` text messages sent at `sentAt`, stored as storage stores them. */
  async function sendAt(conversationId: string, sentAt: number, count = 1): Promise<SequencedMessage[]> {
    const batch = Array.from({ length: count }, () => ctx.newSequenced(conversationId, alice, { sentAt }));
    await store.storeBatch(batch);
    return batch;
  }
  const seqsOf = async (conversationId: string) =>
    (await ctx.messages.after(conversationId, 0, 200)).messages.map((m) => m.seq);
  async function setRetention(conversationId: string, days: number | null): Promise<void> {
    await ctx.conversations.updateSettings(conversationId, { retentionDays: days });
  }
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('deletes the expired messages from the lowest seq up, a batch per statement, and keeps the rest', async () => {
    const c = await ctx.newConversation([alice, bob], 'group');
    await sendAt(c, daysAgo(40), 10);
    await sendAt(c, daysAgo(1), 3);

    const report = await sweeper({ RETENTION_DAYS: 30 }).execute(now);

    expect(report).toMatchObject({ outcome: 'done', messages: 10 });
    // Batches of 3: 1-3, 4-6, 7-9, then 10, stopping at 11, the first one kept.
    expect(report.batches).toBe(4);
    expect(await seqsOf(c)).toEqual([11, 12, 13]);
    expect((await ctx.conversations.get(c))?.lastSeq).toBe(13);
  });

  it('stops at the first message within retention: one sent earlier after it waits for a later sweep', async () => {
    const c = await ctx.newConversation([alice, bob], 'group');
    await sendAt(c, daysAgo(40));
    await sendAt(c, daysAgo(1));
    await sendAt(c, daysAgo(40)); // a clock behind the others' (a sequencer failover)
    const report = await sweeper({ RETENTION_DAYS: 30 }).execute(now);
    expect(report).toMatchObject({ messages: 1, batches: 1 });
    expect(await seqsOf(c)).toEqual([2, 3]);
  });

  it('honours a conversation’s own retention, longer or shorter, and only those without a default', async () => {
    const [byDefault, keepsLonger, keepsShorter] = [
      await ctx.newConversation([alice, bob], 'group'),
      await ctx.newConversation([alice, bob], 'group'),
      await ctx.newConversation([alice, bob], 'group'),
    ];
    for (const c of [byDefault, keepsLonger]) await sendAt(c, daysAgo(40), 2);
    await sendAt(keepsShorter, daysAgo(3), 2);
    await setRetention(keepsLonger, 60);
    await setRetention(keepsShorter, 2);

    // No deployment default: only the conversation with its own (shorter) retention loses messages.
    await sweeper({ RETENTION_DAYS: undefined }).execute(now);
    expect(await seqsOf(byDefault)).toEqual([1, 2]);
    expect(await seqsOf(keepsLonger)).toEqual([1, 2]);
    expect(await seqsOf(keepsShorter)).toEqual([]);

    await sweeper({ RETENTION_DAYS: 30 }).execute(now);
    expect(await seqsOf(byDefault)).toEqual([]);
    expect(await seqsOf(keepsLonger)).toEqual([1, 2]);

    // Back to the default (null): now 30 days apply to it as well.
    await setRetention(keepsLonger, null);
    await sweeper({ RETENTION_DAYS: 30 }).execute(now);
    expect(await seqsOf(keepsLonger)).toEqual([]);
  });

  it('removes the reactions to and hidden marks of deleted messages, and only those', async () => {
    const c = await ctx.newConversation([alice, bob], 'group');
    await sendAt(c, daysAgo(40), 2); // 1, 2
    const react = (targetSeq: number, sentAt: number) =>
      ctx.newSequenced(c, bob, {
        contentType: 'reaction',
        body: { targetSeq, emoji: '👍', op: 'add' },
        sentAt,
      });
    await store.storeBatch([react(1, daysAgo(40))]); // 3
    await sendAt(c, daysAgo(1), 1); // 4
    await store.storeBatch([react(4, daysAgo(1))]); // 5
    await hidden.hide(bob.id, c, 2);
    await hidden.hide(bob.id, c, 4);

    const report = await sweeper({ RETENTION_DAYS: 30 }).execute(now);

    expect(report).toMatchObject({ reactions: 1, hidden: 1 });
    expect(await seqsOf(c)).toEqual([4, 5]);
    const reactions: { target_seq: string }[] = await ctx.db.query(
      `SELECT target_seq FROM message_reactions WHERE conversation_id = $1`,
      [c],
    );
    expect(reactions.map((r) => Number(r.target_seq))).toEqual([4]);
    const marks: { seq: string }[] = await ctx.db.query(
      `SELECT seq FROM hidden_messages WHERE conversation_id = $1`,
      [c],
    );
    expect(marks.map((r) => Number(r.seq))).toEqual([4]);
    expect((await ctx.messages.after(c, 3, 10, bob.id)).messages.map((m) => m.seq)).toEqual([5]);
    expect((await ctx.messages.after(c, 3, 10)).messages[0].reactions).toEqual([
      { emoji: '👍', count: 1, userIds: [bob.id] },
    ]);
  });

  it('pages over what is left, from any cursor below it, with hasMore from the rows themselves', async () => {
    const c = await ctx.newConversation([alice, bob], 'group');
    await sendAt(c, daysAgo(40), 7);
    await sendAt(c, daysAgo(1), 5); // 8-12
    await sweeper({ RETENTION_DAYS: 30 }).execute(now);

    const pages: number[][] = [];
    let cursor = 2; // below the oldest kept seq
    for (;;) {
      const page = await ctx.messages.after(c, cursor, 2);
      pages.push(page.messages.map((m) => m.seq));
      if (!page.hasMore) break;
      cursor = page.messages[page.messages.length - 1].seq;
    }
    expect(pages).toEqual([[8, 9], [10, 11], [12]]);
    const backwards = await ctx.messages.before(c, 10, 5);
    expect(backwards).toMatchObject({ hasMore: false });
    expect(backwards.messages.map((m) => m.seq)).toEqual([8, 9]);
  });

  it('leaves lastSeq alone, even when everything went, and the next message is stored above it', async () => {
    const c = await ctx.newConversation([alice, bob], 'group');
    await sendAt(c, daysAgo(40), 4);
    await sweeper({ RETENTION_DAYS: 30 }).execute(now);
    expect(await seqsOf(c)).toEqual([]);
    expect((await ctx.conversations.get(c))?.lastSeq).toBe(4);

    const [next] = await sendAt(c, now);
    expect(next.seq).toBe(5);
    expect(await seqsOf(c)).toEqual([5]);
    expect((await ctx.conversations.get(c))?.lastSeq).toBe(5);
  });

  it('sweeps on one replica at a time: while another holds the lock it does nothing', async () => {
    const c = await ctx.newConversation([alice, bob], 'group');
    await sendAt(c, daysAgo(40), 2);
    const other = new Client({ connectionString: ctx.config.DATABASE_URL });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [SWEEP_LOCK_KEY]);
      expect(await sweeper({ RETENTION_DAYS: 30 }).execute(now)).toMatchObject({
        outcome: 'busy',
        messages: 0,
      });
      expect(await seqsOf(c)).toEqual([1, 2]);
      await other.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK_KEY]);
    } finally {
      await other.end();
    }
    expect(await sweeper({ RETENTION_DAYS: 30 }).execute(now)).toMatchObject({ outcome: 'done' });
    expect(await seqsOf(c)).toEqual([]);
  });

  it('stops between statements when told to (shutdown), keeping what it did not reach', async () => {
    const c = await ctx.newConversation([alice, bob], 'group');
    await sendAt(c, daysAgo(40), 9);
    // Asked before each page of conversations and before each statement: stop after one statement.
    let asked = 0;
    const report = await sweeper({ RETENTION_DAYS: 30 }).execute(now, () => asked++ >= 2);
    expect(report).toMatchObject({ outcome: 'stopped', messages: 3, batches: 1 });
    expect(await seqsOf(c)).toEqual(range(4, 9));
  });
});
