import { setup } from '../support/context';
import { waitFor } from '../support/helpers';

describe('message trace and per-stage metrics', () => {
  const ctx = setup();

  it('GET /admin/messages/{id}/trace gives each stage time and per-device delivery and read', async () => {
    const [alice, bob] = [await ctx.newUser(), await ctx.newUser()];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob, { deviceId: 'bob-phone' });
    const ack = await a.ackOf(a.send(conversationId, 'trace me'));
    await b.next((f) => f.type === 'message' && f.seq === ack.seq);
    b.sendRaw({ type: 'deliver_ack', conversationId, seq: ack.seq });
    b.sendRaw({ type: 'read', conversationId, seq: ack.seq });

    const trace = await waitFor(
      async () => {
        const res = await ctx.admin('GET', `/admin/messages/${ack.messageId}/trace`);
        const bobRead = res.body?.members?.find((m: { userId: string }) => m.userId === bob.id);
        // A connection's deliver_ack and read are not ordered against each other at the gateway
        // (each waits for its own membership check), so either may be applied first.
        const phone = res.body?.devices?.find((d: { deviceId: string }) => d.deviceId === 'bob-phone');
        return res.status === 200 && bobRead?.read && phone ? res.body : undefined;
      },
      'the trace to show bob read it and his phone got it',
      15_000,
    );
    expect(trace).toMatchObject({
      messageId: ack.messageId,
      conversationId,
      seq: ack.seq,
      senderId: alice.id,
    });
    const { accepted, sequenced, stored } = trace.stages as Record<string, string>;
    expect(Date.parse(accepted)).toBeLessThanOrEqual(Date.parse(sequenced));
    expect(Date.parse(sequenced)).toBeLessThanOrEqual(Date.parse(stored));
    expect(trace.devices).toContainEqual(
      expect.objectContaining({ userId: bob.id, deviceId: 'bob-phone', delivered: true }),
    );
    expect(trace.members).toContainEqual({ userId: bob.id, delivered: true, read: true });
    expect(
      (await ctx.admin('GET', `/admin/messages/00000000-0000-0000-0000-000000000000/trace`)).status,
    ).toBe(404);
  });

  it('exposes per-stage latency histograms and consumer lag', async () => {
    const byName = (name: string) => ctx.stack.services.find((s) => s.name === name)!;
    const text = async (name: string) =>
      (await fetch(`http://127.0.0.1:${byName(name).port}/metrics`)).text();
    expect(await text('sequencer')).toMatch(/im_message_stage_seconds_count\{stage="sequenced"\} [1-9]/);
    expect(await text('storage')).toMatch(/im_message_stage_seconds_count\{stage="stored"\} [1-9]/);
    expect(await text('delivery')).toMatch(/im_message_stage_seconds_count\{stage="acked"\} [1-9]/);
    expect(await text('storage')).toMatch(/im_kafka_consumer_lag\{/);
  });
});
