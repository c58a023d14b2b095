import { TestContext } from '../support/context';
import { OwnStack, startOwnStack } from '../support/own-stack';
import { waitFor } from '../support/helpers';

/**
 * A broadcast survives the gateway that runs it being killed: another gateway (or the same one
 * after a restart) resumes it, and every user gets the message once.
 */
describe('broadcast resumed after its gateway is killed', () => {
  let own: OwnStack | undefined;
  let ctx: TestContext;

  beforeAll(async () => {
    own = await startOwnStack({
      name: 'bc',
      env: { KAFKA_PARTITIONS: '2', BROADCAST_RATE_PER_SEC: '10' },
      instances: { gateway: 2 },
    });
    ctx = own.ctx;
  });
  afterAll(() => own?.stop());

  it('finishes with every user sent exactly once', async () => {
    const users = [];
    for (let i = 0; i < 40; i++) users.push(await ctx.newUser('bc'));
    const started = await ctx.admin('POST', '/admin/broadcasts', {
      userIds: users.map((u) => u.id),
      body: { text: 'hello all' },
    });
    expect(started.status).toBe(202);
    // Paced at 10/s: kill the gateway that took the job while it is under way.
    await waitFor(
      async () => {
        const s = await ctx.admin('GET', `/admin/broadcasts/${started.body.id}`);
        return s.body.sent >= 5 ? s.body : undefined;
      },
      'the broadcast to be under way',
      20_000,
    );
    const stack = own!.stack;
    await stack.stopInstance(stack.get('gateway', 0), 'SIGKILL');

    const other = new TestContext({ ...ctx.stack, gateways: [ctx.gateway(1)] });
    const done = await waitFor(
      async () => {
        const s = await other.admin('GET', `/admin/broadcasts/${started.body.id}`);
        return s.body.state === 'done' ? s.body : undefined;
      },
      'the broadcast to finish on the other gateway',
      60_000,
    );
    expect(done).toMatchObject({ total: 40, sent: 40, failed: 0 });
    // Each user's direct conversation with `system` holds the message exactly once.
    for (const u of users.slice(0, 10)) {
      const conversation = await other.admin('POST', '/admin/conversations', {
        type: 'direct',
        memberIds: ['system', u.id],
      });
      const messages = await other.admin(
        'GET',
        `/admin/conversations/${conversation.body.id}/messages?afterSeq=0`,
      );
      expect(messages.body.messages.map((m: { body: { text: string } }) => m.body.text)).toEqual([
        'hello all',
      ]);
    }
  });
});
