import { TestContext } from '../support/context';
import { drainSync, framesDuring, history, sendMany, sleep, waitFor } from '../support/helpers';
import { OwnStack, startOwnStack } from '../support/own-stack';
import type { Frame } from '../support/test-client';

/** 0.00025 days = 21.6 s: long enough to tell old from recent messages, short enough to wait for. */
const RETENTION_DAYS = 0.00025;
const RETENTION_MS = RETENTION_DAYS * 86_400_000;
/** Recent messages are sent this long after the old ones: the checks run between both expiries. */
const GAP_MS = 10_000;

/**
 * Retention (docs/protocol.md §5.7) on a stack of its own with a tiny RETENTION_DAYS: old
 * messages vanish from history, sync and the admin list; paging with a small limit covers
 * every remaining message once with a correct hasMore; a conversation's own retentionDays
 * keeps them longer; delivery pushes nothing deleted again; sends carry on above lastSeq.
 */
describe('retention', () => {
  let own: OwnStack | undefined;
  let ctx: TestContext;

  beforeAll(async () => {
    own = await startOwnStack({
      name: 'ret',
      env: {
        RETENTION_DAYS: String(RETENTION_DAYS),
        RETENTION_SWEEP_INTERVAL_MS: '1000',
        RETENTION_BATCH_SIZE: '3',
        RETENTION_BATCH_PAUSE_MS: '10',
      },
    });
    ctx = own.ctx;
  });
  afterAll(() => own?.stop());

  const seqsOf = (messages: Frame[]) => messages.map((m) => m.seq as number);

  /** Every page of the admin list from `afterSeq`, `limit` at a time. */
  async function adminPages(conversationId: string, limit: number, afterSeq = 0) {
    const pages: { seqs: number[]; hasMore: boolean }[] = [];
    for (let cursor = afterSeq; pages.length < 50;) {
      const res = await ctx.admin(
        'GET',
        `/admin/conversations/${conversationId}/messages?afterSeq=${cursor}&limit=${limit}`,
      );
      expect(res.status).toBe(200);
      const seqs = seqsOf(res.body.messages as Frame[]);
      pages.push({ seqs, hasMore: res.body.hasMore as boolean });
      if (!res.body.hasMore) return pages;
      cursor = seqs[seqs.length - 1];
    }
    throw new Error('the admin list did not end');
  }

  it('answers PATCH /admin/conversations/{id}: 200 with retentionDays, 400 for invalid bodies, 404 for unknown ids', async () => {
    const [a, b] = [await ctx.newUser(), await ctx.newUser()];
    const id = await ctx.newConversation([a, b], 'group');
    const patched = await ctx.admin('PATCH', `/admin/conversations/${id}`, {
      retentionDays: 7,
      title: 'seven',
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({
      id,
      type: 'group',
      title: 'seven',
      memberIds: [a.id, b.id].sort(),
      lastSeq: 0,
      retentionDays: 7,
    });
    expect((await ctx.admin('GET', `/admin/conversations/${id}`)).body).toEqual(patched.body);

    // A field left out stays; null goes back to the deployment's retention.
    const titleOnly = await ctx.admin('PATCH', `/admin/conversations/${id}`, { title: 'renamed' });
    expect(titleOnly.body).toMatchObject({ title: 'renamed', retentionDays: 7 });
    const reset = await ctx.admin('PATCH', `/admin/conversations/${id}`, { retentionDays: null });
    expect(reset.body).toMatchObject({ title: 'renamed', retentionDays: null });
    expect((await ctx.admin('PATCH', `/admin/conversations/${id}`, {})).status).toBe(200);
    expect((await ctx.admin('PATCH', `/admin/conversations/${id}`, { retentionDays: 36500 })).status).toBe(
      200,
    );

    for (const body of [
      { retentionDays: 0 },
      { retentionDays: 36501 },
      { retentionDays: 2.5 },
      { retentionDays: '30' },
      { title: 'x'.repeat(201) },
      { retentionDays: 1, color: 'red' },
    ]) {
      const refused = await ctx.admin('PATCH', `/admin/conversations/${id}`, body);
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    }
    expect((await ctx.admin('GET', `/admin/conversations/${id}`)).body.retentionDays).toBe(36500);

    const missing = await ctx.admin('PATCH', '/admin/conversations/no-such-conversation', {
      retentionDays: 1,
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
    expect((await ctx.admin('PATCH', `/admin/conversations/${id}`, { retentionDays: 1 }, null)).status).toBe(
      401,
    );
  });

  it('deletes old messages from history, sync and the admin list, pages over the rest, keeps overrides, and sends carry on', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const direct = await ctx.newConversation([alice, bob]);
    const keeps = await ctx.newConversation([alice, bob, carol], 'group');
    const emptied = await ctx.newConversation([alice, bob], 'group');
    expect((await ctx.admin('PATCH', `/admin/conversations/${keeps}`, { retentionDays: 1 })).status).toBe(
      200,
    );

    const sender = await ctx.connect(alice);
    const phone = await ctx.connect(bob, { deviceId: 'phone' }); // never acknowledges: re-push keeps trying
    const oldDirect = seqsOf(await sendMany(sender, direct, 7, 'old'));
    const oldKept = seqsOf(await sendMany(sender, keeps, 3, 'kept'));
    const oldEmptied = seqsOf(await sendMany(sender, emptied, 2, 'gone'));
    await sleep(GAP_MS);
    const recentAcks = await sendMany(sender, direct, 5, 'recent');
    const recent = seqsOf(recentAcks);
    const recentSentAt = Math.min(...recentAcks.map((a) => a.sentAt as number));

    await waitFor(
      async () =>
        (await adminPages(direct, 200))[0].seqs[0] === recent[0] &&
        (await adminPages(emptied, 200))[0].seqs.length === 0,
      'the old messages to be deleted',
      RETENTION_MS + 15_000,
      250,
    );

    // The admin list, 2 at a time: every remaining message once, hasMore on all but the last page.
    const admin = await adminPages(direct, 2);
    expect(admin.flatMap((p) => p.seqs)).toEqual(recent);
    expect(admin.map((p) => p.hasMore)).toEqual([true, true, false]);
    expect((await adminPages(direct, 2, oldDirect[2])).flatMap((p) => p.seqs)).toEqual(recent);
    expect(admin).toHaveLength(3);

    // history forwards from below the oldest kept seq, and backwards from the end.
    const forward: number[][] = [];
    for (let afterSeq = 0, more = true; more;) {
      const page = await history(phone, direct, { afterSeq, limit: 2 });
      forward.push(seqsOf(page.messages as Frame[]));
      more = page.hasMore as boolean;
      afterSeq = forward[forward.length - 1].at(-1) ?? afterSeq;
      expect(forward.length).toBeLessThan(10);
    }
    expect(forward).toEqual([recent.slice(0, 2), recent.slice(2, 4), recent.slice(4)]);
    const backward: number[][] = [];
    for (let beforeSeq = recent[4] + 1, more = true; more;) {
      const page = await history(phone, direct, { beforeSeq, limit: 2 });
      backward.unshift(seqsOf(page.messages as Frame[]));
      more = page.hasMore as boolean;
      beforeSeq = backward[0][0] ?? beforeSeq;
      expect(backward.length).toBeLessThan(10);
    }
    expect(backward.flat()).toEqual(recent);
    expect(await history(phone, emptied, { afterSeq: 0, limit: 2 })).toMatchObject({
      messages: [],
      hasMore: false,
    });

    // sync from nothing on a new device, 2 at a time: no page promises more than it gives.
    const tablet = await ctx.connect(bob, { deviceId: 'tablet' });
    const synced = await drainSync(tablet, { limit: 2 });
    const byConversation = (c: string) => seqsOf(synced.messages.filter((m) => m.conversationId === c));
    expect(byConversation(direct)).toEqual(recent);
    expect(byConversation(keeps)).toEqual(oldKept);
    expect(byConversation(emptied)).toEqual([]);
    expect(synced.pages.slice(0, -1).every((p) => (p.messages as Frame[]).length === 2)).toBe(true);
    expect((synced.pages.at(-1)!.messages as Frame[]).length).toBeGreaterThan(0);
    expect(synced.cursors).toMatchObject({ [direct]: recent[4], [keeps]: oldKept[2] });

    // The conversation with its own (longer) retention kept everything.
    expect((await adminPages(keeps, 200))[0].seqs).toEqual(oldKept);
    // All of this ran before the recent messages expired, or it would prove nothing.
    expect(Date.now()).toBeLessThan(recentSentAt + RETENTION_MS);

    // Re-push and catch-up, still owing the phone everything, push nothing that was deleted.
    await sleep(500); // a round that read just before the delete
    const resurrected = await framesDuring(
      phone,
      (f) =>
        f.type === 'message' &&
        ((f.conversationId === direct && oldDirect.includes(f.seq as number)) ||
          f.conversationId === emptied),
      3000,
    );
    expect(resurrected).toEqual([]);

    const metrics = await (await fetch(`http://127.0.0.1:${own!.stack.get('storage').port}/metrics`)).text();
    const deleted = /^im_retention_deleted_rows_total\{table="messages"\} (\d+)$/m.exec(metrics);
    expect(Number(deleted?.[1])).toBeGreaterThanOrEqual(oldDirect.length + oldEmptied.length);
    expect(metrics).toMatch(/^im_retention_last_run_timestamp_seconds \d+$/m);

    // Sends carry on above lastSeq, also where nothing is left, and reach the phone.
    for (const [conversationId, lastSeq] of [
      [direct, recent[4]],
      [emptied, oldEmptied[1]],
    ] as const) {
      expect((await ctx.admin('GET', `/admin/conversations/${conversationId}`)).body.lastSeq).toBe(lastSeq);
      const [ack] = await sendMany(sender, conversationId, 1, 'after');
      expect(ack.seq).toBeGreaterThan(lastSeq);
      await phone.next(
        (f) => f.type === 'message' && f.conversationId === conversationId && f.seq === ack.seq,
      );
      expect(
        seqsOf(
          (await history(phone, conversationId, { beforeSeq: (ack.seq as number) + 1, limit: 1 }))
            .messages as Frame[],
        ),
      ).toEqual([ack.seq]);
    }
  }, 120_000);
});
