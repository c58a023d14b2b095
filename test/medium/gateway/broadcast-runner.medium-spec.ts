import { randomUUID } from 'node:crypto';
import { ServiceUnavailableException } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { SYSTEM_USER_ID } from '@im/protocol';
import { RedisLeases } from '@im/realtime';
import {
  broadcastLeaseKey,
  BroadcastJobs,
} from '../../../apps/gateway/src/admin/broadcast/broadcast-jobs.store';
import { BroadcastRunner } from '../../../apps/gateway/src/admin/broadcast/broadcast-runner';
import { BroadcastService } from '../../../apps/gateway/src/admin/broadcast/broadcast.service';
import { SystemMessagesService } from '../../../apps/gateway/src/admin/system-messages.service';
import { AdminPipeline } from '../support/admin-pipeline';
import { MediumContext, type MediumUser } from '../support/medium-context';

/** The system messages service as the runner uses it, recording each post and failing chosen ones once. */
class RecordingSystemMessages extends SystemMessagesService {
  /** The conversation of every post, in the order they were made. */
  readonly posts: string[] = [];
  /** Conversations whose next post fails as an unconfirmed one does (503, to be retried). */
  readonly failOnce = new Set<string>();

  override async post(...args: Parameters<SystemMessagesService['post']>) {
    this.posts.push(args[0]);
    if (this.failOnce.delete(args[0]))
      throw new ServiceUnavailableException('the message is not confirmed durable yet');
    return super.post(...args);
  }
}

/**
 * Broadcast jobs run by gateways over the real Redis (job, progress, leases) and PostgreSQL
 * (users, direct conversations), each message through the in-process pipeline: every user
 * gets the message once, across stops, crashes, failures and resumes.
 */
describe('BroadcastRunner and BroadcastService (in-process pipeline, real PostgreSQL and Redis)', () => {
  let ctx: MediumContext;
  let pipeline: AdminPipeline;
  let jobs: BroadcastJobs;
  let systemMessages: RecordingSystemMessages;
  const text = 'hello all';

  /** The runner of the gateway `owner`, posting `ratePerSec` messages a second at most (unpaced by default). */
  const runnerOf = (owner: string, ratePerSec = 100_000) =>
    new BroadcastRunner(
      jobs,
      new RedisLeases(ctx.redis, owner),
      ctx.users,
      ctx.conversations,
      systemMessages,
      Object.assign(new AppConfig(), ctx.config, { BROADCAST_RATE_PER_SEC: ratePerSec }),
    );
  const lease = (owner: string, id: string) => new RedisLeases(ctx.redis, owner).named(broadcastLeaseKey(id));

  beforeAll(async () => {
    ctx = await MediumContext.create('broadcast-runner');
    pipeline = await AdminPipeline.start(ctx);
    jobs = new BroadcastJobs(ctx.redis, ctx.config);
    systemMessages = new RecordingSystemMessages(pipeline.accept, pipeline.waiters, ctx.config);
  });
  afterEach(async () => {
    await pipeline.idle();
    expect(pipeline.errors).toEqual([]);
    systemMessages.posts.length = 0;
  });
  afterAll(() => ctx.close());

  async function newUsers(n: number): Promise<MediumUser[]> {
    const users: MediumUser[] = [];
    for (let i = 0; i < n; i++) users.push(await ctx.newUser('bc'));
    return users;
  }
  /** A broadcast of `text` to n new users, not started yet. */
  async function newJob(n: number): Promise<{ users: MediumUser[]; id: string }> {
    const users = await newUsers(n);
    const id = randomUUID();
    await jobs.create(
      id,
      users.map((u) => u.id),
      { text },
    );
    return { users, id };
  }
  /** A user's direct conversation with the system (the one the runner posts to). */
  const systemConversation = async (user: MediumUser) =>
    (await ctx.conversations.findOrCreateDirect(randomUUID(), SYSTEM_USER_ID, user.id, null)).conversation.id;
  /** What each user's conversation with the system holds: [clientMsgId, text] per message. */
  const inboxes = (users: MediumUser[]) =>
    Promise.all(
      users.map(async (u) =>
        (await ctx.messages.after(await systemConversation(u), 0, 10)).messages.map((m) => [
          m.senderId,
          m.clientMsgId,
          m.body.text,
        ]),
      ),
    );
  /** How many posts each user's conversation got since the case began. */
  const postsPer = async (users: MediumUser[]) => {
    const conversations = await Promise.all(users.map(systemConversation));
    return conversations.map((c) => systemMessages.posts.filter((p) => p === c).length);
  };
  const once = (id: string, n: number) =>
    Array.from({ length: n }, () => [[SYSTEM_USER_ID, `broadcast-${id}`, text]]);
  async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('posts to every user once, in their direct conversation with the system, finishes the job and frees its lease', async () => {
    const { users, id } = await newJob(6);
    await runnerOf('gw-a').run(id, () => false);

    expect(await jobs.status(id)).toEqual({ id, state: 'done', total: 6, sent: 6, failed: 0 });
    expect(await jobs.runningIds()).not.toContain(id);
    expect(await inboxes(users)).toEqual(once(id, 6));
    expect(await postsPer(users)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(await lease('gw-a', id).isHeld()).toBe(false);
  });

  it('fails users that do not exist, and the system itself, for good without posting to them', async () => {
    const [u1, u2] = await newUsers(2);
    const id = randomUUID();
    await jobs.create(id, [u1.id, 'ghost-user', SYSTEM_USER_ID, u2.id], { text });
    await runnerOf('gw-a').run(id, () => false);

    expect(await jobs.status(id)).toEqual({ id, state: 'done', total: 4, sent: 2, failed: 2 });
    expect(systemMessages.posts).toHaveLength(2);
    expect(await inboxes([u1, u2])).toEqual(once(id, 2));
  });

  it('leaves a job alone while another gateway holds its lease, and runs it once that one lets go', async () => {
    const { users, id } = await newJob(3);
    const other = lease('gw-other', id);
    expect(await other.hold(10_000)).toBe(true);

    await runnerOf('gw-a').run(id, () => false);
    expect(systemMessages.posts).toEqual([]);
    expect(await jobs.status(id)).toMatchObject({ state: 'running', sent: 0 });
    expect(await other.hold(10_000)).toBe(true); // still the other gateway's

    await other.release();
    await runnerOf('gw-a').run(id, () => false);
    expect(await jobs.status(id)).toMatchObject({ state: 'done', sent: 3 });
    expect(await inboxes(users)).toEqual(once(id, 3));
  });

  it('resumes a crashed gateway’s job once its lease lapses, skipping users handled, and posting once to a user posted but not marked', async () => {
    const { users, id } = await newJob(6);
    // What the crashed gateway left: three users done, a fourth posted just before it died.
    for (const u of users.slice(0, 4))
      await systemMessages.post(await systemConversation(u), `broadcast-${id}`, { text });
    for (const u of users.slice(0, 3)) await jobs.markSent(id, u.id);
    expect(await lease('gw-dead', id).hold(300)).toBe(true);
    systemMessages.posts.length = 0;

    await runnerOf('gw-b').run(id, () => false);
    expect(systemMessages.posts).toEqual([]);

    await new Promise((r) => setTimeout(r, 400));
    await runnerOf('gw-b').run(id, () => false);
    expect(await postsPer(users)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(await jobs.status(id)).toEqual({ id, state: 'done', total: 6, sent: 6, failed: 0 });
    expect(await inboxes(users)).toEqual(once(id, 6));
  });

  it('stops between users when told, and a later run does the rest without posting to anyone again', async () => {
    const { users, id } = await newJob(12);
    await runnerOf('gw-a').run(id, () => systemMessages.posts.length >= 3);
    const stopped = (await jobs.status(id))!;
    expect(stopped.state).toBe('running');
    expect(stopped.sent).toBeGreaterThanOrEqual(3);
    expect(stopped.sent).toBeLessThan(12);
    expect(await lease('gw-a', id).isHeld()).toBe(false);

    await runnerOf('gw-b').run(id, () => false);
    expect(await jobs.status(id)).toMatchObject({ state: 'done', sent: 12, failed: 0 });
    expect(await postsPer(users)).toEqual(users.map(() => 1));
    expect(await inboxes(users)).toEqual(once(id, 12));
  });

  it('pauses on a failure worth retrying, leaves that user unhandled, and posts to them when the job resumes', async () => {
    const users = await newUsers(4);
    const last = users[3];
    const id = randomUUID();
    await jobs.create(
      id,
      users.map((u) => u.id),
      { text },
    );
    systemMessages.failOnce.add(await systemConversation(last));

    await expect(runnerOf('gw-a').run(id, () => false)).rejects.toBeInstanceOf(ServiceUnavailableException);
    // The others were under way when it failed.
    await waitFor('the other users to be sent', async () => (await jobs.status(id))!.sent === 3);
    expect(await jobs.running(id)).toMatchObject({ handled: new Set(users.slice(0, 3).map((u) => u.id)) });

    await runnerOf('gw-b').run(id, () => false);
    expect(await jobs.status(id)).toMatchObject({ state: 'done', sent: 4, failed: 0 });
    expect(await postsPer(users)).toEqual([1, 1, 1, 2]);
    expect(await inboxes(users)).toEqual(once(id, 4));
  });

  // Workers that waited for the pace at the end of a job once took users past the list, and the
  // run failed on `undefined` with every user sent.
  it('finishes a paced job when its last user is sent', async () => {
    const { id } = await newJob(5);
    try {
      await runnerOf('gw-a', 5).run(id, () => false); // a burst of 4, then one every 200 ms
      expect(await jobs.status(id)).toMatchObject({ state: 'done', sent: 5 });
    } finally {
      await jobs.finish(id);
    }
  });

  // A failure once rejected the run and freed the lease at once while the other workers went
  // on posting, under no lease.
  it('posts nothing once its run has ended', async () => {
    const { users, id } = await newJob(8);
    systemMessages.failOnce.add(await systemConversation(users[0]));
    try {
      await expect(runnerOf('gw-a').run(id, () => false)).rejects.toBeInstanceOf(ServiceUnavailableException);
      const posted = systemMessages.posts.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(systemMessages.posts).toHaveLength(posted);
    } finally {
      // The failed user and those not reached are left for the resume.
      expect((await jobs.status(id))!.sent).toBeLessThan(8);
      await jobs.finish(id);
    }
  });

  describe('BroadcastService', () => {
    const serviceOf = (owner: string, ratePerSec?: number) => {
      const runner = runnerOf(owner, ratePerSec);
      const service = new BroadcastService(jobs, runner, new RedisLeases(ctx.redis, owner));
      // The round every gateway runs every few seconds, run here when the case wants it.
      const resumeOrphans = () => (service as unknown as { resumeOrphans(): Promise<void> }).resumeOrphans();
      return { service, runner, resumeOrphans };
    };

    it('starts a job that runs to the end, and reports its progress', async () => {
      const users = await newUsers(5);
      const a = serviceOf('gw-a');
      const id = await a.service.start(
        users.map((u) => u.id),
        { text },
      );
      await waitFor('the broadcast to finish', async () => (await a.service.status(id))?.state === 'done');
      expect(await a.service.status(id)).toEqual({ id, state: 'done', total: 5, sent: 5, failed: 0 });
      expect(await inboxes(users)).toEqual(once(id, 5));
      expect(await a.service.status(randomUUID())).toBeNull();
    });

    it('resumes jobs whose lease lapsed, and leaves those another gateway runs alone', async () => {
      const users = await newUsers(3);
      const [orphan, held] = [randomUUID(), randomUUID()];
      for (const id of [orphan, held])
        await jobs.create(
          id,
          users.map((u) => u.id),
          { text },
        );
      expect(await lease('gw-live', held).hold(10_000)).toBe(true);
      const b = serviceOf('gw-b');
      const run = jest.spyOn(b.runner, 'run');

      await b.resumeOrphans();
      await waitFor('the orphan to finish', async () => (await jobs.status(orphan))?.state === 'done');
      const launched = run.mock.calls.map(([id]) => id);
      expect(launched).toContain(orphan);
      expect(launched).not.toContain(held);
      expect(await jobs.status(held)).toMatchObject({ state: 'running', sent: 0 });
      expect(await inboxes(users)).toEqual(once(orphan, 3));

      await jobs.finish(held); // not this case's to run
    });

    it('stops its jobs when its gateway shuts down; another gateway finishes them, each user once', async () => {
      const users = await newUsers(12);
      const a = serviceOf('gw-a', 10); // a burst of 4, then one every 100 ms
      const id = await a.service.start(
        users.map((u) => u.id),
        { text },
      );
      await waitFor('the broadcast to be under way', async () => (await jobs.status(id))!.sent >= 2);
      a.service.beforeApplicationShutdown();
      await waitFor('the stopped job’s lease to be freed', async () => !(await lease('gw-a', id).isHeld()));
      expect(await jobs.status(id)).toMatchObject({ state: 'running' });

      const b = serviceOf('gw-b');
      await b.resumeOrphans();
      await waitFor('the broadcast to finish', async () => (await jobs.status(id))?.state === 'done');
      expect(await jobs.status(id)).toMatchObject({ sent: 12, failed: 0 });
      expect(await postsPer(users)).toEqual(users.map(() => 1));
      expect(await inboxes(users)).toEqual(once(id, 12));
    });
  });
});
