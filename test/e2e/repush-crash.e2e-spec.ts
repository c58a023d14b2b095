import { TestContext } from '../support/context';
import { framesSince, sendAndAck, waitFor } from '../support/helpers';
import { OwnStack, startOwnStack } from '../support/own-stack';

/**
 * G5 across a delivery crash: pending re-pushes live in the memory of the delivery instance
 * that pushed, so a kill -9 loses them; the catch-up (PostgreSQL's delivered cursors of online
 * devices) must push again what the device never acknowledged, without it reconnecting.
 */
describe('re-push after the delivery instance that pushed is killed (G5)', () => {
  let own: OwnStack | undefined;
  let ctx: TestContext;

  beforeAll(async () => {
    own = await startOwnStack({ name: 'rpc', env: { KAFKA_PARTITIONS: '2' } });
    ctx = own.ctx;
  });
  afterAll(() => own?.stop());

  it('pushes an unacknowledged message again after a kill -9 of delivery, and stops once it is acked', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 0 }); // never answers with deliver_ack by itself
    const ack = await sendAndAck(a, conversationId, 'pushed before the crash');
    const copies = (from = 0) =>
      framesSince(b, from, (f) => f.type === 'message' && f.seq === ack.seq && f.messageId === ack.messageId);
    await waitFor(() => copies().length >= 1, 'the first push');

    const stack = own!.stack;
    await stack.stopInstance(stack.get('delivery', 0), 'SIGKILL');
    const afterCrash = b.frames.length;
    await stack.restart(stack.get('delivery', 0));
    await waitFor(() => copies(afterCrash).length >= 1, 'the message pushed again after the crash', 30_000);
    expect(b.frames.filter((f) => f.type === 'sync_result')).toEqual([]);
    // The killed member's partitions come back to the group only after its session (6 s) has
    // run out; the restarted delivery then replays the persisted events not committed before
    // the kill, which pushes the message once more (a replay carries no sign of having been
    // pushed, and the device drops copies by seq). The ack below is to stop re-push, not that.
    await new Promise((r) => setTimeout(r, 8000));

    // The restarted delivery may wait for the group to hand it the signals partitions; the
    // `delivered` receipt to alice says the ack is applied.
    b.sendRaw({ type: 'deliver_ack', conversationId, seq: ack.seq as number });
    await waitFor(
      () => a.frames.some((f) => f.type === 'receipt' && f.kind === 'delivered' && f.seq === ack.seq),
      'the ack to be applied',
      30_000,
    );
    await new Promise((r) => setTimeout(r, 1000)); // a round that read the cursors just before
    const afterAck = b.frames.length;
    await new Promise((r) => setTimeout(r, 6000)); // longer than the catch-up's and re-push's rounds
    expect(copies(afterAck)).toEqual([]);
  });
});
