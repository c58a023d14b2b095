import type { RedisClient } from '@im/realtime';
import { AppConfig } from '@im/config';
import { GatewayBus, type GatewayEnvelope, PresenceStore, RedisLeases } from '@im/realtime';
import { CatchUpWorker } from '../../../apps/delivery/src/catch-up/catch-up.worker';
import { DeviceRouter } from '../../../apps/delivery/src/fan-out/device-router';
import { MessageStoreRepository } from '../../../apps/storage/src/persistence/message-store.repository';
import { MediumContext, type MediumUser } from '../support/medium-context';

/**
 * Delivery's catch-up over the real PostgreSQL (messages, delivered cursors, active
 * conversations) and Redis (presence, its lease, the gateway bus): what an online device's
 * stored cursor has not acknowledged is pushed, and nothing else, by one instance at a time.
 */
describe('CatchUpWorker (real PostgreSQL and RedisClient)', () => {
  let ctx: MediumContext;
  let config: AppConfig;
  let store: MessageStoreRepository;
  let presence: PresenceStore;
  let subscriber: RedisClient;
  let worker: CatchUpWorker;
  const gateway = 'gw-catch-up';
  const envelopes: GatewayEnvelope[] = [];
  const connected: { userId: string; deviceId: string; connId: string }[] = [];
  let alice: MediumUser;
  let bob: MediumUser;

  /** A catch-up instance of its own name (its lease's owner) over `redis`. */
  const newWorker = (owner: string, redis: RedisClient) =>
    new CatchUpWorker(
      new RedisLeases(redis, owner),
      ctx.cursors,
      ctx.messages,
      new DeviceRouter(new PresenceStore(redis), new GatewayBus(redis)),
      config,
    );

  beforeAll(async () => {
    ctx = await MediumContext.create('catch-up');
    // Rounds every 500 ms: the lease lapses 1 s after its holder's last round.
    config = Object.assign(new AppConfig(), ctx.config, { CATCH_UP_INTERVAL_MS: 500 });
    store = new MessageStoreRepository(ctx.db);
    presence = new PresenceStore(ctx.redis);
    worker = newWorker('delivery-a', ctx.redis);
    subscriber = ctx.newRedis();
    await GatewayBus.subscribe(subscriber, gateway, (e) => envelopes.push(e));
  });
  beforeEach(async () => {
    alice = await ctx.newUser('alice');
    bob = await ctx.newUser('bob');
  });
  // A case's devices go offline after it, so that a later case's rounds see only its own.
  afterEach(async () => {
    for (const d of connected.splice(0)) await presence.unregister(d.userId, d.deviceId, d.connId);
    await settle();
    envelopes.length = 0;
  });
  afterAll(() => ctx.close());

  /** Redis answers the subscriber's PING after every message published to it before. */
  const settle = async () => {
    await subscriber.ping();
  };
  const online = async (user: MediumUser, deviceId: string, connectedAt = Date.now() - 1_000) => {
    const connId = `${user.id}-${deviceId}-${connectedAt}`;
    connected.push({ userId: user.id, deviceId, connId });
    await presence.register(user.id, deviceId, { gatewayId: gateway, connId, connectedAt });
  };
  /** `n` messages of `sender` stored now: the conversation is active, its last seq raised. */
  const stored = (conversationId: string, sender: MediumUser, n: number) =>
    store.storeBatch(Array.from({ length: n }, () => ctx.newSequenced(conversationId, sender)));
  const acked = (user: MediumUser, deviceId: string, conversationId: string, seq: number) =>
    ctx.cursors.advanceDeliveredMany([{ userId: user.id, deviceId, conversationId, seq }]);
  /** The seqs pushed to a device, in order. */
  const pushedTo = (user: MediumUser, deviceId: string) =>
    envelopes.flatMap((e) =>
      e.kind === 'to_devices' &&
      e.frame.type === 'message' &&
      e.devices.some(([u, d]) => u === user.id && d === deviceId)
        ? [e.frame.seq]
        : [],
    );
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  /** A round late enough that the messages stored so far are no longer on their normal way. */
  const later = () => Date.now() + 5_000;

  it('pushes each online device what its stored cursor lacks, in seq order, and nothing it acknowledged', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    const rows = await stored(conversationId, alice, 5);
    await acked(bob, 'phone', conversationId, 2);
    await acked(alice, 'phone', conversationId, 5);
    await Promise.all([online(bob, 'phone'), online(bob, 'laptop'), online(alice, 'phone')]);

    expect(await worker.tick(later())).toBe(3 + 5);
    await settle();
    expect(pushedTo(bob, 'phone')).toEqual([3, 4, 5]);
    expect(pushedTo(bob, 'laptop')).toEqual([1, 2, 3, 4, 5]);
    expect(pushedTo(alice, 'phone')).toEqual([]);
    // The frames are the stored messages.
    const frame = envelopes.find(
      (e) => e.kind === 'to_devices' && e.frame.type === 'message' && e.frame.seq === 5,
    );
    expect(frame).toMatchObject({
      frame: { messageId: rows[4].row!.message_id, senderId: alice.id, body: { text: 'message 5' } },
    });
  });

  it('brings a device that never acknowledges every message of a conversation longer than one page', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    await stored(conversationId, alice, 230);
    await online(bob, 'watch');

    // Its cursor never moves: the rounds go on page by page (100 each) instead of repeating the first.
    let now = later();
    for (let round = 0; round < 3; round++) await worker.tick((now += 600));
    await settle();
    expect([...new Set(pushedTo(bob, 'watch'))]).toEqual(range(1, 230));
  });

  it('pushes nothing still on its normal way, nor what a device had in its sync when it connected', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    await stored(conversationId, alice, 4);
    // 1 and 2 were stored long before bob's phone connected: its sync brought them.
    await ctx.db.query(
      `UPDATE messages SET stored_at = now() - interval '5 minutes' WHERE conversation_id = $1 AND seq <= 2`,
      [conversationId],
    );
    await online(bob, 'phone');

    // 3 and 4 were stored a moment ago: push and re-push are still at it.
    expect(await worker.tick(Date.now())).toBe(0);
    expect(await worker.tick(later())).toBe(2);
    await settle();
    expect(pushedTo(bob, 'phone')).toEqual([3, 4]);
  });

  it('looks only at conversations active within its window', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    await stored(conversationId, alice, 2);
    await ctx.db.query(
      `UPDATE conversations SET last_message_at = now() - make_interval(secs => $2) WHERE id = $1`,
      [conversationId, config.CATCH_UP_WINDOW_SECONDS + 60],
    );
    await online(bob, 'phone');
    expect(await worker.tick(later())).toBe(0);
    await ctx.db.query(`UPDATE conversations SET last_message_at = now() WHERE id = $1`, [conversationId]);
    expect(await worker.tick(later())).toBe(2);
  });

  it('pushes again with the re-push backoff while the cursor stays, and at once what remains when it moves', async () => {
    const conversationId = await ctx.newConversation([alice, bob]);
    await stored(conversationId, alice, 3);
    await online(bob, 'phone');
    const t0 = later();

    expect(await worker.tick(t0)).toBe(3);
    expect(await worker.tick(t0 + config.REPUSH_INITIAL_MS - 1)).toBe(0);
    expect(await worker.tick(t0 + config.REPUSH_INITIAL_MS)).toBe(3);
    // The next one is twice as far.
    expect(await worker.tick(t0 + config.REPUSH_INITIAL_MS * 2)).toBe(0);
    await acked(bob, 'phone', conversationId, 2);
    expect(await worker.tick(t0 + config.REPUSH_INITIAL_MS * 2 + 1)).toBe(1);
    await acked(bob, 'phone', conversationId, 3);
    expect(await worker.tick(t0 + config.REPUSH_INITIAL_MS * 10)).toBe(0);
    await settle();
    expect(pushedTo(bob, 'phone')).toEqual([1, 2, 3, 1, 2, 3, 3]);
  });

  it('serves, in one round, a device far behind a page and another near the end of it', async () => {
    const carol = await ctx.newUser('carol');
    const conversationId = await ctx.newConversation([alice, bob, carol]);
    await stored(conversationId, alice, 120);
    await acked(carol, 'phone', conversationId, 110);
    await Promise.all([online(bob, 'phone'), online(carol, 'phone')]);

    expect(await worker.tick(later())).toBe(100 + 10);
    await settle();
    expect(pushedTo(bob, 'phone')).toEqual(range(1, 100)); // a page a round
    expect(pushedTo(carol, 'phone')).toEqual(range(111, 120));
    // Bob acknowledges the page: the next round pushes him the rest.
    await acked(bob, 'phone', conversationId, 100);
    envelopes.length = 0;
    expect(await worker.tick(later())).toBe(20);
    await settle();
    expect(pushedTo(bob, 'phone')).toEqual(range(101, 120));
  });

  it('leaves the rounds to the lease holder, so that two instances never push the same message twice; another takes over when it stops', async () => {
    const other = newWorker('delivery-b', ctx.newRedis());
    const conversationId = await ctx.newConversation([alice, bob]);
    await stored(conversationId, alice, 3);
    await online(bob, 'phone');

    expect(await worker.tick(later())).toBe(3);
    expect(await other.tick(later() + 60_000)).toBe(0);
    await settle();
    expect(pushedTo(bob, 'phone')).toEqual([1, 2, 3]);

    // The holder stops: once its lease lapses, the other takes over, without the holder's backoff.
    const lapse = () => new Promise((r) => setTimeout(r, config.CATCH_UP_INTERVAL_MS * 2 + 200));
    await lapse();
    envelopes.length = 0;
    expect(await other.tick(later())).toBe(3);
    expect(await worker.tick(later() + 60_000)).toBe(0);
    await settle();
    expect(pushedTo(bob, 'phone')).toEqual([1, 2, 3]);

    // Both try at once on a free lease: one of them pushes, once.
    await lapse();
    envelopes.length = 0;
    const t = later() + 120_000;
    const counts = await Promise.all([worker.tick(t), other.tick(t)]);
    expect(counts.sort((a, b) => a - b)).toEqual([0, 3]);
    await settle();
    expect(pushedTo(bob, 'phone')).toEqual([1, 2, 3]);
  });
});
