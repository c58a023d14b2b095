import { setup } from '../support/context';

describe('the message path through gateway, sequencer, storage and delivery', () => {
  const ctx = setup();

  it('acks a message accepted at the gateway and pushes it to the recipient over WebSocket', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob);

    const clientMsgId = a.send(conversationId, 'hello bob');
    const ack = await a.ackOf(clientMsgId);
    expect(ack).toMatchObject({ type: 'ack', clientMsgId, conversationId, seq: 1 });
    expect(typeof ack.messageId).toBe('string');

    const pushed = await b.next((f) => f.type === 'message' && f.clientMsgId === clientMsgId);
    expect(pushed).toMatchObject({
      conversationId,
      seq: 1,
      messageId: ack.messageId,
      senderId: alice.id,
      contentType: 'text',
      body: { text: 'hello bob' },
      sentAt: ack.sentAt,
    });
  });

  it('answers /health/live and /health/ready on every service', async () => {
    for (const s of ctx.stack.services) {
      for (const path of ['/health/live', '/health/ready']) {
        const res = await fetch(`http://127.0.0.1:${s.port}${path}`);
        expect({ service: s.name, path, status: res.status }).toEqual({ service: s.name, path, status: 200 });
      }
    }
  });
});
