import { setup } from '../support/context';
import { sendAndAck } from '../support/helpers';

/** Two gateway instances: a sender and a recipient on different instances, both ways. */
describe('two gateway instances', () => {
  const ctx = setup();

  it('delivers from gateway 0 to gateway 1 and back, with receipts and typing crossing too', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 });

    const ackA = await sendAndAck(a, conversationId, 'from gateway 0');
    const atBob = await b.next((f) => f.type === 'message' && f.messageId === ackA.messageId);
    expect(atBob).toMatchObject({ seq: ackA.seq, senderId: alice.id, body: { text: 'from gateway 0' } });

    const ackB = await sendAndAck(b, conversationId, 'from gateway 1');
    const atAlice = await a.next((f) => f.type === 'message' && f.messageId === ackB.messageId);
    expect(atAlice).toMatchObject({ seq: ackB.seq, senderId: bob.id, body: { text: 'from gateway 1' } });
    expect(ackB.seq).toBeGreaterThan(ackA.seq);

    b.sendRaw({ type: 'deliver_ack', conversationId, seq: ackA.seq });
    expect(await a.next((f) => f.type === 'receipt' && f.kind === 'delivered')).toEqual({
      type: 'receipt',
      conversationId,
      kind: 'delivered',
      userId: bob.id,
      seq: ackA.seq,
    });
    a.sendRaw({ type: 'deliver_ack', conversationId, seq: ackB.seq });
    expect(await b.next((f) => f.type === 'receipt' && f.kind === 'delivered')).toEqual({
      type: 'receipt',
      conversationId,
      kind: 'delivered',
      userId: alice.id,
      seq: ackB.seq,
    });

    b.sendRaw({ type: 'typing', conversationId });
    expect(await a.next((f) => f.type === 'typing')).toEqual({ type: 'typing', conversationId, userId: bob.id });
    a.sendRaw({ type: 'typing', conversationId });
    expect(await b.next((f) => f.type === 'typing')).toEqual({ type: 'typing', conversationId, userId: alice.id });
  });
});
