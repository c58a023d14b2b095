import { OwnStack, startOwnStack } from '../support/own-stack';
import {
  autoDeliverAck,
  drainSync,
  fullHistory,
  isStrictlyIncreasing,
  sendAndAck,
  waitFor,
} from '../support/helpers';
import { OrderedSendResult, sendInOrderThroughFaults } from '../support/ordered-sender';
import { clusterHealthy, killMaster, manualFailover, startRedisCluster } from '../support/redis-cluster';
import { TestClient } from '../support/test-client';

/**
 * The whole stack on a Redis Cluster (three masters, one replica each; REDIS_CLUSTER_NODES):
 * the contract's smoke, then masters failing over under load (a manual CLUSTER FAILOVER and a
 * kill -9) with nothing lost, duplicated or out of order. The chaos short profile on the
 * cluster is in chaos-short-cluster.e2e-spec.ts.
 */
describe('on a Redis Cluster', () => {
  let own: OwnStack;

  beforeAll(async () => {
    const nodes = await startRedisCluster();
    own = await startOwnStack({
      name: 'redis-cluster',
      env: { REDIS_CLUSTER_NODES: nodes },
      instances: { gateway: 2, sequencer: 2, storage: 1, delivery: 2 },
    });
  }, 240_000);
  afterAll(async () => {
    await own?.stop();
  }, 60_000);

  it('sends, acks, pushes to another gateway, dedupes a resend and syncs', async () => {
    const { ctx } = own;
    const [alice, bob, carol] = [
      await ctx.newUser('alice'),
      await ctx.newUser('bob'),
      await ctx.newUser('carol'),
    ];
    const direct = await ctx.newConversation([alice, bob]);
    const group = await ctx.newConversation([alice, bob, carol], 'group');
    const a = await ctx.connect(alice, { gateway: 0 });
    const b = await ctx.connect(bob, { gateway: 1 });
    autoDeliverAck(b);

    const ack = await sendAndAck(a, direct, 'hello over the cluster', 'cluster-1');
    expect(ack).toMatchObject({ type: 'ack', seq: expect.any(Number) });
    const resend = await sendAndAck(a, direct, 'hello over the cluster', 'cluster-1');
    expect(resend).toEqual(ack);
    await waitFor(() => b.messages(direct).some((m) => m.clientMsgId === 'cluster-1'), 'the push to bob');

    const groupAcks = [];
    for (let i = 0; i < 5; i++) groupAcks.push(await sendAndAck(a, group, `group ${i}`, `cluster-g-${i}`));
    expect(isStrictlyIncreasing(groupAcks.map((f) => f.seq as number))).toBe(true);
    await waitFor(() => b.messages(group).length >= 5, 'the group pushes to bob');

    // carol was offline: she gets both conversations by sync.
    const c = await ctx.connect(carol, { gateway: 1 });
    const synced = await drainSync(c);
    expect(synced.messages.filter((m) => m.conversationId === group).map((m) => m.clientMsgId)).toEqual(
      groupAcks.map((f) => f.clientMsgId),
    );
    expect(synced.messages.some((m) => m.conversationId === direct)).toBe(false);
    expect((await own.readiness()).every((r) => r.status === 200)).toBe(true);
  }, 60_000);

  it('loses, duplicates and reorders nothing while masters fail over under load', async () => {
    const { ctx } = own;
    const senders: { client: TestClient; receiver: TestClient; conversationId: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const [s, r] = [await ctx.newUser(`s${i}`), await ctx.newUser(`r${i}`)];
      const conversationId = await ctx.newConversation([s, r]);
      const receiver = await ctx.connect(r, { gateway: (i + 1) % 2 });
      autoDeliverAck(receiver);
      senders.push({ client: await ctx.connect(s, { gateway: i % 2 }), receiver, conversationId });
    }
    const count = 400;
    // Sends acked so far (a resend's second ack counts once).
    const acked = () =>
      senders.reduce(
        (n, s) => n + new Set(s.client.frames.filter((f) => f.type === 'ack').map((f) => f.clientMsgId)).size,
        0,
      );
    const runs: Promise<OrderedSendResult>[] = senders.map((s, i) =>
      sendInOrderThroughFaults(s.client, s.conversationId, {
        count,
        paceMs: 40,
        timeoutMs: 150_000,
        prefix: `fo${i}`,
      }),
    );
    await waitFor(() => acked() >= 80, 'the load under way', 30_000);
    const atFailover = acked();
    const manual = await manualFailover(Math.random());
    const atKill = acked();
    const kill = await killMaster(Math.random(), 3000);
    const results = await Promise.all(runs);

    // Both faults landed while sends were still going out.
    expect(atFailover).toBeLessThan(4 * count);
    expect(atKill).toBeLessThan(4 * count);
    expect(manual.from).not.toBe(manual.to);
    expect(kill.killed).not.toBe(kill.promoted);
    expect(await clusterHealthy()).toBe(true);
    const refused = results.reduce((n, r) => n + r.resent, 0);
    process.stdout.write(
      `[redis-cluster] CLUSTER FAILOVER ${manual.from}→${manual.to} at ${atFailover} of ${4 * count} acked, ` +
        `kill -9 of master ${kill.killed} (→${kill.promoted}) at ${atKill}; ${refused} sends refused and resent\n`,
    );

    for (const [i, result] of results.entries()) {
      const { client, receiver, conversationId } = senders[i];
      const seqs = result.firstSent.map((id) => result.acks.get(id)!.seq as number);
      // No reorder: seqs follow the send order; an outage's answer may only be "retry".
      expect(isStrictlyIncreasing(seqs)).toBe(true);
      expect(result.errors.get('internal')).toBeUndefined();
      // No loss, no duplicate: the stored history is exactly the sends, once each, in order.
      const stored = await waitFor(
        async () => {
          const all = await fullHistory(client, conversationId).catch(() => []);
          return all.length >= count && all;
        },
        'the history of every send',
        60_000,
        250,
      );
      expect(stored.map((m) => m.clientMsgId)).toEqual(result.firstSent);
      expect(stored.map((m) => m.seq)).toEqual(seqs);
      // The receiver got every message, as pushes or as re-pushes of one lost with a failing
      // node's pub/sub (a client orders by seq, so a re-push may arrive after later ones).
      await waitFor(
        () => new Set(receiver.messages(conversationId).map((m) => m.seq)).size >= count,
        `receiver ${i} has every message`,
        60_000,
      );
      const received = [...new Set(receiver.messages(conversationId).map((m) => m.seq as number))];
      expect(received.sort((x, y) => x - y)).toEqual(seqs);
    }
  }, 300_000);
});
