import { setup } from '../support/context';
import { Frame } from '../support/test-client';
import { drainSync, isStrictlyIncreasing, sendMany, waitFor } from '../support/helpers';

/** `sync` → `sync_result` (docs/protocol.md §3, §4); G1/G5 for devices that were offline. */
describe('sync', () => {
  const ctx = setup();

  it('brings an offline device more than 200 messages in pages, each exactly once, by conversation then seq', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const withAlice = await ctx.newConversation([alice, bob]);
    const withCarol = await ctx.newConversation([carol, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const c = await ctx.connect(carol, { gateway: 1 });
    const [fromAlice, fromCarol] = await Promise.all([
      sendMany(a, withAlice, 130, 'alice'),
      sendMany(c, withCarol, 100, 'carol'),
    ]);
    const expected = new Map<string, Frame[]>([
      [withAlice, fromAlice],
      [withCarol, fromCarol],
    ]);

    // A device bob has never connected before.
    const b = await ctx.connect(bob, { gateway: 1 });
    const { messages, pages, cursors } = await drainSync(b, { limit: 64 });

    expect(pages.length).toBeGreaterThanOrEqual(4);
    pages.forEach((page, i) => {
      expect(page).toEqual({
        type: 'sync_result',
        reqId: expect.any(String),
        epoch: expect.any(String),
        messages: expect.any(Array),
        cursors: expect.any(Object),
        hasMore: i < pages.length - 1,
      });
      expect(page.messages.length).toBeLessThanOrEqual(64);
    });
    expect(messages).toHaveLength(230);
    expect(new Set(messages.map((m) => m.messageId)).size).toBe(230);

    // Ordered by conversation, then seq: each conversation is one contiguous, ascending run.
    const runs = messages
      .map((m) => m.conversationId as string)
      .filter((id, i, all) => i === 0 || id !== all[i - 1]);
    expect(runs.sort()).toEqual([withAlice, withCarol].sort());
    for (const [conversationId, acks] of expected) {
      const got = messages.filter((m) => m.conversationId === conversationId);
      expect(got.map((m) => m.seq)).toEqual(acks.map((ack) => ack.seq));
      expect(got.map((m) => m.messageId)).toEqual(acks.map((ack) => ack.messageId));
      expect(got[0]).toEqual({
        type: 'message',
        conversationId,
        seq: acks[0].seq,
        messageId: acks[0].messageId,
        senderId: conversationId === withAlice ? alice.id : carol.id,
        clientMsgId: acks[0].clientMsgId,
        contentType: 'text',
        body: { text: conversationId === withAlice ? 'alice-0' : 'carol-0' },
        sentAt: acks[0].sentAt,
      });
      expect(cursors[conversationId]).toBe(acks[acks.length - 1].seq);
    }
    // Each page's cursors name the last seq it included.
    for (const page of pages) {
      for (const conversationId of [withAlice, withCarol]) {
        const included = (page.messages as Frame[]).filter((m) => m.conversationId === conversationId);
        if (included.length > 0) expect(page.cursors[conversationId]).toBe(included[included.length - 1].seq);
      }
    }

    // Without a limit, pages hold at most 200 (the default), and the same messages come back.
    const b2 = await ctx.connect(bob, { gateway: 0 });
    const byDefault = await drainSync(b2);
    expect(byDefault.pages.length).toBeGreaterThanOrEqual(2);
    for (const page of byDefault.pages) expect(page.messages.length).toBeLessThanOrEqual(200);
    expect(byDefault.messages.map((m) => m.messageId)).toEqual(messages.map((m) => m.messageId));
  });

  it('starts, without cursors, after the seq this device acknowledged, and from a given cursor when there is one', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob, { gateway: 1 });
    const acks = await sendMany(a, conversationId, 10, 'cur');
    const seqs = acks.map((ack) => ack.seq as number);
    await waitFor(
      () => new Set(b.messages(conversationId).map((m) => m.seq)).size === 10,
      'all 10 pushes at bob',
    );

    b.sendRaw({ type: 'deliver_ack', conversationId, seq: seqs[5] });
    await waitFor(async () => {
      const res = await ctx.admin('GET', `/admin/messages/${acks[5].messageId}`);
      const me = (res.body?.members ?? []).find((m: { userId: string }) => m.userId === bob.id);
      return me?.deliveredSeq === seqs[5];
    }, 'bob’s delivered cursor to be stored');

    const sinceAck = (await drainSync(b)).messages.filter((m) => m.conversationId === conversationId);
    expect(sinceAck.map((m) => m.seq)).toEqual(seqs.slice(6));

    // The cursor belongs to the device: the same device on a new connection starts there too ...
    b.close();
    const again = await ctx.connect(bob, { deviceId: b.deviceId, gateway: 0 });
    expect((await drainSync(again)).messages.map((m) => m.seq)).toEqual(seqs.slice(6));
    // ... another device of the same user starts from the beginning ...
    const other = await ctx.connect(bob, { gateway: 0 });
    expect((await drainSync(other)).messages.map((m) => m.seq)).toEqual(seqs);
    // ... and a cursor the client sends wins, even below the stored one.
    const fromCursor = await drainSync(again, { cursors: { [conversationId]: seqs[1] } });
    expect(fromCursor.messages.map((m) => m.seq)).toEqual(seqs.slice(2));
    expect(fromCursor.cursors[conversationId]).toBe(seqs[9]);
  });

  it('gives a reconnecting device what it was pushed but never acknowledged (G5)', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob, { gateway: 1 });
    const acks = await sendMany(a, conversationId, 5, 'unacked');
    await waitFor(
      () => new Set(b.messages(conversationId).map((m) => m.seq)).size === 5,
      'all 5 pushes at bob',
    );
    b.close();
    await b.waitClosed();

    const more = await sendMany(a, conversationId, 3, 'while-away');
    const back = await ctx.connect(bob, { deviceId: b.deviceId, gateway: 0 });
    const synced = (await drainSync(back)).messages;
    expect(synced.map((m) => m.messageId)).toEqual([...acks, ...more].map((ack) => ack.messageId));
    expect(isStrictlyIncreasing(synced.map((m) => m.seq))).toBe(true);
  });

  it('answers a user with nothing to sync with an empty page', async () => {
    const loner = await ctx.newUser('loner');
    const l = await ctx.connect(loner);
    const result = await l.request({ type: 'sync', reqId: 'sync-empty' });
    expect(result).toEqual({
      type: 'sync_result',
      reqId: 'sync-empty',
      epoch: expect.any(String),
      messages: [],
      cursors: {},
      hasMore: false,
    });
  });
});
