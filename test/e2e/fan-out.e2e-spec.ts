import { setup } from '../support/context';
import { TestClient } from '../support/test-client';
import {
  autoDeliverAck,
  countBy,
  framesDuring,
  isStrictlyIncreasing,
  sendMany,
  waitFor,
} from '../support/helpers';

/** `message` pushes (docs/protocol.md §4) and G1 for online devices: every device of every member, exactly once. */
describe('fan-out of messages to members’ devices', () => {
  const ctx = setup();

  it('pushes every message exactly once and in seq order to every other device of every member, across both gateways', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol], 'group');
    const sender = await ctx.connect(alice, { gateway: 0 });
    const receivers: TestClient[] = [
      await ctx.connect(alice, { gateway: 1 }), // the sender's other device
      await ctx.connect(bob, { gateway: 0 }),
      await ctx.connect(bob, { gateway: 1 }),
      await ctx.connect(carol, { gateway: 1 }),
      await ctx.connect(carol, { gateway: 0 }),
    ];
    receivers.forEach(autoDeliverAck);

    const acks = await sendMany(sender, conversationId, 30, 'fan');
    const seqs = acks.map((a) => a.seq as number);

    for (const r of receivers) {
      await waitFor(
        () => new Set(r.messages(conversationId).map((m) => m.seq)).size === seqs.length,
        `all ${seqs.length} messages at ${r.userId}/${r.deviceId}`,
        20_000,
      );
    }
    // Let any re-push (REPUSH_INITIAL_MS = 400) of an acknowledged message show up.
    await framesDuring(receivers[0], () => false, 1500);

    for (const r of receivers) {
      const got = r.messages(conversationId);
      const where = `${r.userId}/${r.deviceId}`;
      expect({ where, seqs: got.map((m) => m.seq) }).toEqual({ where, seqs });
      expect(isStrictlyIncreasing(got.map((m) => m.seq))).toBe(true);
      expect([...countBy(got.map((m) => m.messageId)).values()].every((n) => n === 1)).toBe(true);
      got.forEach((m, i) => {
        expect(m).toEqual({
          type: 'message',
          conversationId,
          seq: acks[i].seq,
          messageId: acks[i].messageId,
          senderId: alice.id,
          clientMsgId: acks[i].clientMsgId,
          contentType: 'text',
          body: { text: `fan-${i}` },
          sentAt: acks[i].sentAt,
        });
      });
    }
    // The sending device gets acks, not pushes of its own messages.
    expect(sender.messages(conversationId)).toEqual([]);
  });

  it('pushes messages of several senders to each device in one seq order', async () => {
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const conversationId = await ctx.newConversation([alice, bob, carol], 'group');
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 });
    const c = await ctx.connect(carol, { gateway: 1 });
    [a, b, c].forEach(autoDeliverAck);

    const [fromA, fromB] = await Promise.all([
      sendMany(a, conversationId, 15, 'a'),
      sendMany(b, conversationId, 15, 'b'),
    ]);
    const all = [...fromA, ...fromB].map((f) => f.seq as number).sort((x, y) => x - y);

    await waitFor(() => new Set(c.messages(conversationId).map((m) => m.seq)).size === 30, 'all 30 at carol');
    await waitFor(
      () => new Set(a.messages(conversationId).map((m) => m.seq)).size === 15,
      'bob’s 15 at alice',
    );
    await waitFor(
      () => new Set(b.messages(conversationId).map((m) => m.seq)).size === 15,
      'alice’s 15 at bob',
    );

    const firstSeen = (client: TestClient) => [
      ...new Set(client.messages(conversationId).map((m) => m.seq as number)),
    ];
    expect(firstSeen(c)).toEqual(all);
    expect(firstSeen(a)).toEqual(fromB.map((f) => f.seq));
    expect(firstSeen(b)).toEqual(fromA.map((f) => f.seq));
  });
});
