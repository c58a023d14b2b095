import { setup } from '../support/context';
import { Frame } from '../support/test-client';
import { framesDuring, framesSince, sendMany, sleep, waitFor } from '../support/helpers';

/** G5: a push is repeated (with backoff, from REPUSH_INITIAL_MS = 400 ms, capped at 2 s) until deliver_ack covers it. */
describe('re-push until deliver_ack (G5)', () => {
  const ctx = setup();

  it('re-pushes unacknowledged messages with the same seq and messageId, and stops once a deliver_ack covers them', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 }); // never answers with deliver_ack by itself

    const acks = await sendMany(a, conversationId, 3, 'repush');
    const [s1, s2, s3] = acks.map((ack) => ack.seq as number);
    const copiesOf = (seq: number, from = 0) =>
      framesSince(b, from, (f) => f.type === 'message' && f.seq === seq);

    // Each message arrives again (the first push plus at least one re-push), always identical.
    await waitFor(
      () => acks.every((ack) => copiesOf(ack.seq).length >= 2),
      'a re-push of every message',
      10_000,
    );
    for (const ack of acks) {
      for (const copy of copiesOf(ack.seq)) {
        expect(copy).toMatchObject({
          type: 'message',
          conversationId,
          seq: ack.seq,
          messageId: ack.messageId,
          clientMsgId: ack.clientMsgId,
          sentAt: ack.sentAt,
        });
      }
    }

    // A deliver_ack of the first one only: it stops, the later two keep coming.
    b.sendRaw({ type: 'deliver_ack', conversationId, seq: s1 });
    await sleep(600); // a re-push already on its way may still land
    const afterPartial = b.frames.length;
    await waitFor(
      () => copiesOf(s2, afterPartial).length >= 1 && copiesOf(s3, afterPartial).length >= 1,
      `re-pushes of seqs ${s2} and ${s3} after the partial ack`,
      5_000,
    );
    expect(copiesOf(s1, afterPartial)).toEqual([]);

    // A cumulative deliver_ack covering the last one stops all of them.
    b.sendRaw({ type: 'deliver_ack', conversationId, seq: s3 });
    await sleep(600);
    const late = await framesDuring(
      b,
      (f: Frame) => f.type === 'message' && f.conversationId === conversationId,
      2_500,
    );
    // With re-pushes capped at 2 s apart, 2.5 s without a copy means they stopped.
    expect(late).toEqual([]);
  });
});
