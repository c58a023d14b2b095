import { OwnStack, startOwnStack } from '../support/own-stack';
import { autoDeliverAck, fullHistory, waitFor } from '../support/helpers';

/**
 * KAFKA_CLIENT=kafkajs stays a supported choice (issue 14): a stack of its own on kafkajs
 * takes sends, acks them after storing, delivers them in order and answers a retry with
 * the same ack.
 */
describe('the stack on kafkajs (KAFKA_CLIENT=kafkajs)', () => {
  let own: OwnStack | undefined;

  beforeAll(async () => {
    own = await startOwnStack({ name: 'kjs', env: { KAFKA_CLIENT: 'kafkajs' } });
  });
  afterAll(() => own?.stop());

  it('acks, stores and delivers in order, and answers a retry with the same ack', async () => {
    const ctx = own!.ctx;
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice);
    const b = await ctx.connect(bob);
    autoDeliverAck(b);

    const ids = Array.from({ length: 20 }, (_, i) => a.send(conversationId, `on kafkajs ${i}`, `kjs-${i}`));
    const acks = await Promise.all(ids.map((id) => a.ackOf(id, 30_000)));
    expect(acks.map((f) => f.type)).toEqual(ids.map(() => 'ack'));
    const seqs = acks.map((f) => f.seq as number);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));

    expect((await fullHistory(a, conversationId)).map((m) => m.clientMsgId)).toEqual(ids);
    await waitFor(() => new Set(b.messages(conversationId).map((m) => m.seq)).size === 20, 'all 20 pushes');

    a.send(conversationId, 'on kafkajs 0', 'kjs-0');
    const again = await a.collect((f) => f.type === 'ack' && f.clientMsgId === 'kjs-0', 2, 30_000);
    expect(again[1]).toEqual(acks[0]);
  });
});
