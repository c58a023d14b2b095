import { Redis } from 'ioredis';
import { setup } from '../support/context';
import { autoDeliverAck, sendAndAck, waitFor } from '../support/helpers';

/**
 * G5 when Redis loses delivery's state: presence and pending re-pushes live in Redis, so a
 * flush can make a push skip an online device. Delivery's catch-up compares the delivered
 * cursors PostgreSQL holds with recently active conversations and pushes what is missing.
 */
describe('catch-up of pushes lost with Redis state (G5)', () => {
  const ctx = setup();

  it('an online device gets a message whose push found no presence, without reconnecting or syncing', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 });
    autoDeliverAck(b);
    const first = await sendAndAck(a, conversationId, 'before');
    await waitFor(() => b.frames.some((f) => f.type === 'message' && f.seq === first.seq), 'the first push');

    const redis = new Redis(ctx.stack.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 3,
      keyPrefix: ctx.stack.redisKeyPrefix,
    });
    await redis.connect();
    try {
      // What a FLUSHALL does to bob: no presence (until his gateway re-asserts it) and no pending re-push.
      expect(await redis.del(`presence:${bob.id}`)).toBe(1);
      const lost = await sendAndAck(a, conversationId, 'pushed while bob had no presence');
      await waitFor(
        () =>
          b.frames.some((f) => f.type === 'message' && f.seq === lost.seq && f.messageId === lost.messageId),
        'the message to reach bob by the catch-up',
        20_000,
      );
      expect(b.frames.filter((f) => f.type === 'sync_result')).toEqual([]);
    } finally {
      await redis.quit();
    }
  });
});
