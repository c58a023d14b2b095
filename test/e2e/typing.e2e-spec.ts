import { setup } from '../support/context';
import { drainSync, framesDuring, framesSince, fullHistory, sendAndAck } from '../support/helpers';

/** `typing` (docs/protocol.md §3, §4): forwarded to the other members' online devices, never stored. */
describe('typing', () => {
  const ctx = setup();

  it('forwards typing once to every online device of the other members, and to none of the typist’s', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol], 'group');
    const a1 = await ctx.connect(alice, { gateway: 0 });
    const a2 = await ctx.connect(alice, { gateway: 1 });
    const b1 = await ctx.connect(bob, { gateway: 0 });
    const b2 = await ctx.connect(bob, { gateway: 1 });
    const c1 = await ctx.connect(carol, { gateway: 1 });
    const first = await sendAndAck(a1, conversationId, 'before typing');
    const conversationBefore = await ctx.admin('GET', `/admin/conversations/${conversationId}`);
    const starts = [a1, a2, b1, b2, c1].map((c) => c.frames.length);

    a1.sendRaw({ type: 'typing', conversationId });
    const expected = { type: 'typing', conversationId, userId: alice.id };
    for (const other of [b1, b2, c1]) {
      expect(
        await other.next((f) => f.type === 'typing', 10_000, starts[[a1, a2, b1, b2, c1].indexOf(other)]),
      ).toEqual(expected);
    }
    // Nothing more within a while: exactly one typing per device, none for alice, no answer to the typist.
    await framesDuring(a1, () => false, 1_500);
    [b1, b2, c1].forEach((other) => {
      const i = [a1, a2, b1, b2, c1].indexOf(other);
      expect(framesSince(other, starts[i], (f) => f.type === 'typing')).toEqual([expected]);
    });
    expect(framesSince(a1, starts[0], (f) => f.type !== 'pong')).toEqual([]);
    expect(framesSince(a2, starts[1], (f) => f.type === 'typing')).toEqual([]);

    // Never stored: no message, no seq, nothing to sync.
    expect((await fullHistory(b1, conversationId)).map((m) => m.messageId)).toEqual([first.messageId]);
    const conversationAfter = await ctx.admin('GET', `/admin/conversations/${conversationId}`);
    expect(conversationAfter.body.lastSeq).toBe(conversationBefore.body.lastSeq);
    const offline = await ctx.connect(bob, { gateway: 0 });
    expect((await drainSync(offline)).messages.map((m) => m.type)).toEqual(['message']);
    expect(framesSince(offline, 0, (f) => f.type === 'typing')).toEqual([]);
  });
});
