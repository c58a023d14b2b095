import { execAll } from '@im/realtime';
import { BroadcastJobs } from '../../../apps/gateway/src/admin/broadcast/broadcast-jobs.store';
import { MediumContext } from '../support/medium-context';

/** Broadcast jobs as Redis keeps them between gateways. */
describe('BroadcastJobs (real Redis)', () => {
  let ctx: MediumContext;
  let jobs: BroadcastJobs;
  beforeAll(async () => {
    ctx = await MediumContext.create('broadcast-jobs');
    jobs = new BroadcastJobs(ctx.redis, ctx.config);
  });
  afterAll(() => ctx.close());

  it('keeps a job’s users, body and progress, and lists it as running until it finishes', async () => {
    await jobs.create('j1', ['u1', 'u2', 'u3'], { text: 'hello' });
    await jobs.markSent('j1', 'u1');
    await jobs.markFailed('j1', 'u3');
    expect(await jobs.runningIds()).toContain('j1');
    expect(await jobs.status('j1')).toEqual({ id: 'j1', state: 'running', total: 3, sent: 1, failed: 1 });
    expect(await jobs.running('j1')).toEqual({
      userIds: ['u1', 'u2', 'u3'],
      body: { text: 'hello' },
      handled: new Set(['u1', 'u3']),
    });
    await jobs.finish('j1');
    expect(await jobs.runningIds()).not.toContain('j1');
    expect(await jobs.running('j1')).toBeNull();
    expect(await jobs.status('j1')).toMatchObject({ state: 'done', sent: 1, failed: 1 });
  });

  it('knows no status of a job that does not exist', async () => {
    expect(await jobs.status('nope')).toBeNull();
  });

  it('adopts the jobs of the running set as it was named before, so an upgrade resumes them', async () => {
    const old = `broadcasts:running:${ctx.config.KAFKA_TOPIC_PREFIX}`;
    await execAll(ctx.redis.multi().sadd(old, 'j-old'));
    await jobs.adoptOldLayout();
    expect(await jobs.runningIds()).toContain('j-old');
    expect(await ctx.redis.exists(old)).toBe(0);
  });

  it('adopts a running job written without the {id} hash tag, with who is done and failed', async () => {
    await execAll(
      ctx.redis
        .multi()
        .hset('broadcast:j-untagged', {
          state: 'running',
          total: 3,
          users: '["u1","u2","u3"]',
          body: '{"t":1}',
        })
        .sadd('broadcast:j-untagged:done', 'u1')
        .sadd('broadcast:j-untagged:failed', 'u2')
        .sadd('broadcasts:running', 'j-untagged'),
    );
    await jobs.adoptOldLayout();
    expect(await jobs.running('j-untagged')).toEqual({
      userIds: ['u1', 'u2', 'u3'],
      body: { t: 1 },
      handled: new Set(['u1', 'u2']),
    });
    expect(await ctx.redis.exists('broadcast:j-untagged', 'broadcast:j-untagged:done')).toBe(0);
    // Adopting again changes nothing.
    await jobs.adoptOldLayout();
    expect(await jobs.status('j-untagged')).toMatchObject({ state: 'running', total: 3, sent: 1, failed: 1 });
  });
});
