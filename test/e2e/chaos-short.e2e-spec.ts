import { runChaos } from '../chaos/chaos';

/**
 * The short profile of the fault-injection suite (`npm run chaos` runs the full one). It starts
 * its own stack (two instances of every service) because it kills things, breaks and restores
 * the machine's Kafka broker, Redis and PostgreSQL (always restored, also on failure, so the
 * specs after it find them running), and lets the independent checker judge the run.
 */
describe('chaos (short profile)', () => {
  it('loses, duplicates and reorders nothing under faults, and converges within 30 s', async () => {
    const result = await runChaos({ profile: 'short' });
    expect(result.failures).toEqual([]);
    expect(result.check).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(result.check.acked).toBeGreaterThan(1000);
    expect(result.convergenceMs).not.toBeNull();
    expect(result.convergenceMs!).toBeLessThanOrEqual(30_000);
  }, 300_000);
});
