import { randomUUID } from 'node:crypto';
import { loadConfig, redisTarget } from '@im/config';
import type { ConversationsRepository } from '@im/database';
import { Assignment, IdempotencyGuard, highWaterKey, idempotencyKey } from '@im/idempotency';
import {
  batchOf,
  createRedis,
  execAll,
  GatewayBus,
  GatewayEnvelope,
  getMany,
  isRedisOutage,
  keySlot,
  MembershipMemo,
  MembershipService,
  PresenceStore,
  RedisLeases,
  type RedisClient,
} from '@im/realtime';
import { DeliveredCursorStore } from '../../apps/delivery/src/repush/delivered-cursor.store';
import { BroadcastJobs } from '../../apps/gateway/src/admin/broadcast/broadcast-jobs.store';
import { startRedisCluster } from '../support/redis-cluster';

/**
 * The Redis stores against a real Redis Cluster (three masters, one replica each, started by
 * docker/local/redis-cluster.sh): every multi-key script, MGET, pipeline and transaction must
 * either keep to one slot or be split per slot, or Redis answers CROSSSLOT.
 */
describe('Redis stores on a Redis Cluster (real cluster)', () => {
  const prefix = `medium-cluster-${randomUUID().slice(0, 8)}:`;
  const clients: RedisClient[] = [];
  let redis: RedisClient;
  let nodes: string;
  const client = () => {
    const c = createRedis(redisTarget(loadConfig({ ...secrets, REDIS_CLUSTER_NODES: nodes })), prefix);
    clients.push(c);
    return c;
  };
  const secrets = { ADMIN_TOKEN: 'a'.repeat(32), JWT_SECRET: 'b'.repeat(32) };

  beforeAll(async () => {
    nodes = await startRedisCluster();
    redis = client();
  }, 180_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => undefined)));
  });

  /** Conversation ids whose keys land in `n` different slots. */
  const conversationsInSlots = (n: number) => {
    const bySlot = new Map<number, string>();
    while (bySlot.size < n) {
      const id = `c-${randomUUID().slice(0, 8)}`;
      bySlot.set(keySlot(prefix + highWaterKey(id)), id);
    }
    return [...bySlot.values()];
  };

  it('is a cluster client whose keys carry the prefix', async () => {
    expect(nodes.split(',')).toHaveLength(6);
    await redis.set('k', 'v');
    expect(await redis.get('k')).toBe('v');
    const plain = createRedis(
      { kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 7301 }], tls: false },
      '',
    );
    clients.push(plain);
    expect(await plain.get(`${prefix}k`)).toBe('v');
  });

  it('fails a command it could not deliver as an outage (unavailable to clients), typed', async () => {
    const closed = client();
    await closed.get('warm');
    closed.disconnect();
    const error = await closed.get('k').catch((e: unknown) => e);
    expect(isRedisOutage(error)).toBe(true);
  });

  it('reads keys of many slots in their order (getMany), and a plain MGET across slots is refused', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `many:${i}`);
    await execAll(keys.reduce((b, k, i) => b.set(k, String(i)), batchOf(redis)));
    expect(new Set(keys.map((k) => keySlot(prefix + k))).size).toBeGreaterThan(10);
    expect(await getMany(redis, [...keys, 'missing'])).toEqual([...keys.map((_, i) => String(i)), null]);
    await expect(redis.mget(...keys)).rejects.toThrow(/CROSSSLOT|same slot/);
  });

  it('runs a batch across slots with one reply per command in order, errors included', async () => {
    await redis.set('batch:string', 'x');
    const replies = await batchOf(redis).incr('batch:a').incr('batch:b').hget('batch:string', 'f').exec();
    expect(replies?.map(([e, v]) => (e ? 'error' : v))).toEqual([1, 1, 'error']);
    await expect(execAll(batchOf(redis).incr('batch:c').hget('batch:string', 'f'))).rejects.toThrow(
      /WRONGTYPE/,
    );
  });

  describe('the sequencer claim', () => {
    const guard = () => new IdempotencyGuard(redis);
    const entry = (conversationId: string, clientMsgId: string, seq: number) => ({
      key: idempotencyKey(conversationId, 'alice', clientMsgId),
      assignment: { seq, messageId: randomUUID(), sentAt: Date.now() } as Assignment,
    });

    it('claims a batch of conversations in many slots, fencing each on its own', async () => {
      const ids = conversationsInSlots(12);
      // Half of them have moved on (another sequencer claimed seq 500): their old block is fenced.
      for (const c of ids.slice(0, 6))
        await guard().claim([{ conversationId: c, freshBlock: true, entries: [entry(c, 'first', 500)] }]);
      // One batch: the moved-on half from its old block, the other half from a fresh block.
      const batch = ids.map((c, i) => ({
        conversationId: c,
        freshBlock: i >= 6,
        entries: i < 6 ? [entry(c, 'x', 100)] : [entry(c, 'x', 1), entry(c, 'y', 2)],
      }));
      const result = await guard().claim(batch);
      expect([...result.fenced].sort()).toEqual(ids.slice(0, 6).sort());
      expect(
        await getMany(
          redis,
          ids.slice(0, 6).map((c) => idempotencyKey(c, 'alice', 'x')),
        ),
      ).toEqual(ids.slice(0, 6).map(() => null));
      expect(result.winners.size).toBe(12);
      expect(
        await getMany(
          redis,
          ids.map((c) => highWaterKey(c)),
        ),
      ).toEqual(ids.map((_, i) => (i < 6 ? '500' : '2')));
      const again = await guard().lookup(ids.slice(6).map((c) => idempotencyKey(c, 'alice', 'y')));
      expect(again.map((a) => a?.seq)).toEqual(ids.slice(6).map(() => 2));
    });

    it('answers a resend with the first assignment, whichever slot', async () => {
      const [c1, c2] = conversationsInSlots(2);
      const first = [entry(c1, 'm', 7), entry(c2, 'm', 9)];
      await guard().claim(
        first.map((e, i) => ({ conversationId: [c1, c2][i], freshBlock: true, entries: [e] })),
      );
      const resend = [entry(c1, 'm', 8), entry(c2, 'm', 10)];
      const result = await guard().claim(
        resend.map((e, i) => ({ conversationId: [c1, c2][i], freshBlock: false, entries: [e] })),
      );
      expect(result.winners.get(first[0].key)).toEqual(first[0].assignment);
      expect(result.winners.get(first[1].key)).toEqual(first[1].assignment);
    });
  });

  it('raises delivered cursors of many devices with a script per command, never lowering one', async () => {
    const cursors = new DeliveredCursorStore(redis);
    const devices = Array.from({ length: 12 }, (_, i) => ({
      userId: `cu-${i}`,
      deviceId: 'd1',
      conversationId: 'c1',
    }));
    await cursors.raiseDeliveredCursors(devices.map((d, i) => ({ ...d, seq: 10 + i })));
    await cursors.raiseDeliveredCursors(devices.map((d) => ({ ...d, seq: 5 })));
    const read = await cursors.deliveredCursors(
      devices.map((d) => ({ ...d, connId: 'x', fromSeq: 1, seq: 1, attempt: 0 })),
    );
    expect(read).toEqual(devices.map((_, i) => 10 + i));
  });

  it('keeps presence, leases and broadcast jobs', async () => {
    const presence = new PresenceStore(redis);
    const users = Array.from({ length: 8 }, (_, i) => `user-${i}`);
    await presence.refresh(
      users.map((userId) => ({
        userId,
        deviceId: 'd1',
        presence: { gatewayId: 'g1', connId: userId, connectedAt: 1 },
      })),
    );
    const devices = await presence.devicesOf(users);
    expect(users.map((u) => devices.get(u)?.get('d1')?.connId)).toEqual(users);

    const lease = new RedisLeases(redis, 'me').named('lease:x');
    expect(await lease.hold(5000)).toBe(true);
    expect(await new RedisLeases(redis, 'other').named('lease:x').hold(5000)).toBe(false);

    const jobs = new BroadcastJobs(redis, loadConfig({ ...secrets, KAFKA_TOPIC_PREFIX: 'cluster' }));
    await jobs.create('b1', ['u1', 'u2'], { text: 'hi' });
    await jobs.markSent('b1', 'u1');
    expect(await jobs.runningIds()).toContain('b1');
    await jobs.finish('b1');
    expect(await jobs.status('b1')).toMatchObject({ state: 'done', total: 2, sent: 1 });
    expect(await jobs.runningIds()).not.toContain('b1');
  });

  it('carries the gateway bus and membership changes over cluster pub/sub', async () => {
    const subscriber = client();
    const got: GatewayEnvelope[] = [];
    await GatewayBus.subscribe(subscriber, 'gw-1', (e) => got.push(e));
    const frame = { type: 'pong' } as unknown as GatewayEnvelope extends { frame: infer F } ? F : never;
    await new GatewayBus(redis).publishMany([
      { gatewayId: 'gw-1', envelope: { kind: 'to_conn', connId: 'a', frame } },
      { gatewayId: 'gw-2', envelope: { kind: 'to_conn', connId: 'b', frame } },
      { gatewayId: 'gw-1', envelope: { kind: 'to_conn', connId: 'c', frame } },
    ]);
    const deadline = Date.now() + 5000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(got.map((e) => (e.kind === 'to_conn' ? e.connId : ''))).toEqual(['a', 'c']);

    const members = ['u1', 'u2'];
    const repository = {
      memberIds: () => Promise.resolve([...members]),
    } as unknown as ConversationsRepository;
    const membership = new MembershipService(
      redis,
      repository,
      new MembershipMemo({ maxConversations: 10, ttlMs: 60_000 }),
    );
    expect(await membership.isMember('conv-m', 'u2')).toBe(true);
    members.pop();
    await membership.invalidate('conv-m');
    expect(await membership.isMember('conv-m', 'u2')).toBe(false);
  });
});
