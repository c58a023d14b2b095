import { setup, TestUser } from '../support/context';
import { TestClient } from '../support/test-client';
import { sendAndAck } from '../support/helpers';

/** Two gateway instances: a sender and a recipient on different instances, both ways. */
describe('two gateway instances', () => {
  const ctx = setup();

  async function pairAcrossGateways(): Promise<{
    alice: TestUser;
    bob: TestUser;
    conversationId: string;
    a: TestClient;
    b: TestClient;
  }> {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 });
    return { alice, bob, conversationId, a, b };
  }

  it('delivers a message from a sender on gateway 0 to a recipient on gateway 1, and back', async () => {
    const { alice, bob, conversationId, a, b } = await pairAcrossGateways();

    const ackA = await sendAndAck(a, conversationId, 'from gateway 0');
    const atBob = await b.next((f) => f.type === 'message' && f.messageId === ackA.messageId);
    expect(atBob).toMatchObject({ seq: ackA.seq, senderId: alice.id, body: { text: 'from gateway 0' } });

    const ackB = await sendAndAck(b, conversationId, 'from gateway 1');
    const atAlice = await a.next((f) => f.type === 'message' && f.messageId === ackB.messageId);
    expect(atAlice).toMatchObject({ seq: ackB.seq, senderId: bob.id, body: { text: 'from gateway 1' } });
    expect(ackB.seq).toBeGreaterThan(ackA.seq);
  });

  it('carries delivered receipts across gateways, both ways', async () => {
    const { alice, bob, conversationId, a, b } = await pairAcrossGateways();
    const ackA = await sendAndAck(a, conversationId, 'from gateway 0');
    const ackB = await sendAndAck(b, conversationId, 'from gateway 1');

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
  });

  it('carries typing across gateways, both ways', async () => {
    const { alice, bob, conversationId, a, b } = await pairAcrossGateways();
    b.sendRaw({ type: 'typing', conversationId });
    expect(await a.next((f) => f.type === 'typing')).toEqual({
      type: 'typing',
      conversationId,
      userId: bob.id,
    });
    a.sendRaw({ type: 'typing', conversationId });
    expect(await b.next((f) => f.type === 'typing')).toEqual({
      type: 'typing',
      conversationId,
      userId: alice.id,
    });
  });
});
