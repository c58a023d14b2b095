import { runChaos } from '../chaos/chaos';

/**
 * The short chaos profile with the services on the local Redis Cluster (three masters, one
 * replica each): its Redis restart is a master's failover (kill -9 or CLUSTER FAILOVER, by the
 * fault's id) and its flush empties every master, under the same load and checker as the
 * single-Redis run in chaos-short.e2e-spec.ts.
 */
describe('chaos (short profile) on a Redis Cluster', () => {
  it('loses, duplicates and reorders nothing while a master fails over, and converges within 30 s', async () => {
    const result = await runChaos({ profile: 'short', redisCluster: true });
    expect(result.redis).toBe('cluster');
    expect(result.failures).toEqual([]);
    expect(result.check).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(result.check.acked).toBeGreaterThan(1000);
    expect(
      result.faults.filter((f) => f.kind === 'redis-restart' && f.endedAtMs !== undefined),
    ).not.toHaveLength(0);
    expect(result.convergenceMs).not.toBeNull();
    expect(result.convergenceMs!).toBeLessThanOrEqual(30_000);
  }, 300_000);
});
