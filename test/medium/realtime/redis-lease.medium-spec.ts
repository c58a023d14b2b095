import { RedisLeases } from '@im/realtime';
import { MediumContext } from '../support/medium-context';

/** One owner at a time, handed over when the owner stops renewing, never released by another. */
describe('RedisLease (real Redis)', () => {
  let ctx: MediumContext;
  let a: RedisLeases;
  let b: RedisLeases;
  beforeAll(async () => {
    ctx = await MediumContext.create('redis-lease');
    a = new RedisLeases(ctx.redis, 'instance-a');
    b = new RedisLeases(ctx.newRedis(), 'instance-b');
  });
  afterAll(() => ctx.close());

  it('lets one owner hold it, and that owner renew it', async () => {
    expect(await a.named('l1').hold(5_000)).toBe(true);
    expect(await b.named('l1').hold(5_000)).toBe(false);
    expect(await a.named('l1').hold(5_000)).toBe(true);
    expect(await b.named('l1').isHeld()).toBe(true);
  });

  it('passes to another owner once the holder stops renewing', async () => {
    expect(await a.named('l2').hold(100)).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(await b.named('l2').isHeld()).toBe(false);
    expect(await b.named('l2').hold(5_000)).toBe(true);
  });

  it('is released only by its holder: a late release of a lapsed lease leaves the new holder’s alone', async () => {
    expect(await a.named('l3').hold(100)).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(await b.named('l3').hold(5_000)).toBe(true);
    await a.named('l3').release();
    expect(await a.named('l3').hold(5_000)).toBe(false);
    await b.named('l3').release();
    expect(await a.named('l3').hold(5_000)).toBe(true);
  });
});
