import { setup } from '../support/context';
import { Frame } from '../support/test-client';
import {
  autoDeliverAck,
  countBy,
  framesDuring,
  fullHistory,
  isStrictlyIncreasing,
  sendMany,
  waitFor,
} from '../support/helpers';

/** `send` → `ack` (docs/protocol.md §3, §4), G3 order and G4 ack after durability. */
describe('send, ack and ordering', () => {
  const ctx = setup();

  it('acks 50 pipelined sends, with seqs strictly increasing in send order (G3)', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob, { gateway: 1 });
    autoDeliverAck(b);
    const before = Date.now();

    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(a.send(conversationId, `pipelined ${i}`, `pipe-${i}`));
    const acks = await Promise.all(ids.map((id) => a.ackOf(id, 30_000)));

    expect(acks.map((f) => f.type)).toEqual(ids.map(() => 'ack'));
    acks.forEach((ack, i) => {
      expect(ack).toEqual({
        type: 'ack',
        clientMsgId: ids[i],
        conversationId,
        seq: expect.any(Number),
        messageId: expect.any(String),
        sentAt: expect.any(Number),
      });
      expect(Number.isInteger(ack.seq)).toBe(true);
      // A wall-clock timestamp in ms (not a duration check: a wide sanity window against clock skew).
      expect(ack.sentAt).toBeGreaterThan(before - 60_000);
      expect(ack.sentAt).toBeLessThan(Date.now() + 60_000);
    });
    const seqs = acks.map((ack) => ack.seq as number);
    expect(isStrictlyIncreasing(seqs)).toBe(true);
    expect(new Set(acks.map((ack) => ack.messageId)).size).toBe(50);

    // The stored timeline has them in the same order, with the acked identities.
    const stored = await fullHistory(a, conversationId);
    expect(stored.map((m) => m.clientMsgId)).toEqual(ids);
    expect(stored.map((m) => m.seq)).toEqual(seqs);
    expect(stored.map((m) => m.messageId)).toEqual(acks.map((ack) => ack.messageId));
    expect(stored.map((m) => m.body)).toEqual(ids.map((_, i) => ({ text: `pipelined ${i}` })));

    // The recipient sees them in the same order.
    await waitFor(() => new Set(b.messages(conversationId).map((m) => m.seq)).size === 50, 'all 50 pushes');
    const firstSeen: number[] = [];
    for (const m of b.messages(conversationId)) if (!firstSeen.includes(m.seq)) firstSeen.push(m.seq);
    expect(firstSeen).toEqual(seqs);
  });

  it('answers each send with exactly one ack', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const acks = await sendMany(a, conversationId, 10, 'once');
    await framesDuring(a, () => false, 1500);
    const counts = countBy(a.frames.filter((f) => f.type === 'ack').map((f) => f.clientMsgId as string));
    expect([...counts.entries()]).toEqual(acks.map((ack) => [ack.clientMsgId, 1]));
  });

  it('keeps each sender’s order and gives unique seqs when two senders pipeline into one group (G3)', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol], 'group');
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 });

    const [fromAlice, fromBob] = await Promise.all([
      sendMany(a, conversationId, 25, 'alice'),
      sendMany(b, conversationId, 25, 'bob'),
    ]);
    const aliceSeqs = fromAlice.map((f) => f.seq as number);
    const bobSeqs = fromBob.map((f) => f.seq as number);
    expect(isStrictlyIncreasing(aliceSeqs)).toBe(true);
    expect(isStrictlyIncreasing(bobSeqs)).toBe(true);
    expect(new Set([...aliceSeqs, ...bobSeqs]).size).toBe(50);

    const stored = await fullHistory(a, conversationId);
    expect(stored).toHaveLength(50);
    expect(isStrictlyIncreasing(stored.map((m) => m.seq))).toBe(true);
    const bySeq = new Map<number, Frame>(stored.map((m) => [m.seq as number, m]));
    for (const ack of [...fromAlice, ...fromBob]) {
      expect(bySeq.get(ack.seq)).toMatchObject({ clientMsgId: ack.clientMsgId, messageId: ack.messageId });
    }
  });

  it('accepts every send content type (text, image, file, custom) and stores the body as sent', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob, { gateway: 1 });
    const sends = [
      { contentType: 'text', body: { text: 'plain ✓ ünïcødé 🚀' } },
      { contentType: 'image', body: { url: 'https://example.invalid/a.png', width: 640, height: 480 } },
      { contentType: 'file', body: { url: 'https://example.invalid/f.pdf', name: 'f.pdf', size: 1234 } },
      {
        contentType: 'custom',
        body: { kind: 'poll', options: ['a', 'b'], nested: { deep: [1, null, true] } },
      },
    ];
    sends.forEach((s, i) => a.sendRaw({ type: 'send', clientMsgId: `ct-${i}`, conversationId, ...s }));
    const acks = await Promise.all(sends.map((_, i) => a.ackOf(`ct-${i}`)));
    expect(acks.map((f) => f.type)).toEqual(['ack', 'ack', 'ack', 'ack']);

    const pushed = await b.collect((f) => f.type === 'message' && f.conversationId === conversationId, 4);
    for (const [i, s] of sends.entries()) {
      const push = pushed.find((m) => m.clientMsgId === `ct-${i}`);
      expect(push).toEqual({
        type: 'message',
        conversationId,
        seq: acks[i].seq,
        messageId: acks[i].messageId,
        senderId: alice.id,
        clientMsgId: `ct-${i}`,
        contentType: s.contentType,
        body: s.body,
        sentAt: acks[i].sentAt,
      });
    }
  });

  it('sends an ack only once the message is durable: it is readable the moment the ack arrives (G4)', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    // On the arrival of each ack, at once ask the admin API (another process, PostgreSQL) for it.
    const lookups: Promise<{ ack: Frame; status: number; seq: unknown }>[] = [];
    const seen = new Set<string>();
    a.ws.on('message', (data) => {
      const frame = JSON.parse((data as Buffer).toString('utf8')) as Frame;
      if (frame.type !== 'ack' || seen.has(frame.clientMsgId)) return;
      seen.add(frame.clientMsgId);
      lookups.push(
        ctx
          .admin('GET', `/admin/messages/${frame.messageId}`)
          .then((res) => ({ ack: frame, status: res.status, seq: res.body?.seq })),
      );
    });
    const acks = await sendMany(a, conversationId, 20, 'durable');
    expect(lookups).toHaveLength(20);
    const results = await Promise.all(lookups);
    for (const r of results)
      expect({ status: r.status, seq: r.seq }).toEqual({ status: 200, seq: r.ack.seq });

    const conversation = await ctx.admin('GET', `/admin/conversations/${conversationId}`);
    expect(conversation.body.lastSeq).toBe(acks[acks.length - 1].seq);
  });
});
