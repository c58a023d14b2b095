import { TestContext } from '../support/context';
import { OwnStack, startOwnStack } from '../support/own-stack';
import { upgradeStatus } from '../support/helpers';

/**
 * Origin allow-list, connections per user and message rate limits, on a gateway of its own
 * with small limits (the shared stack runs with generous ones).
 */
describe('limits and origin checks at the gateway', () => {
  let own: OwnStack | undefined;
  let ctx: TestContext;

  beforeAll(async () => {
    own = await startOwnStack({
      name: 'lim',
      env: {
        ALLOWED_ORIGINS: 'https://chat.example.com,http://localhost:8080',
        MAX_CONNECTIONS_PER_USER: '2',
        RATE_LIMIT_CONNECTION_PER_SEC: '5',
        RATE_LIMIT_USER_PER_SEC: '8',
        RATE_LIMIT_CLOSE_AFTER: '30',
      },
      instances: { gateway: 1, sequencer: 0, storage: 0, delivery: 0 },
    });
    ctx = own.ctx;
  });
  afterAll(() => own?.stop());

  it('refuses a browser upgrade from an origin that is not allowed (403) and accepts allowed ones', async () => {
    const user = await ctx.newUser();
    const query = { token: user.token, deviceId: 'web' };
    expect(await upgradeStatus(ctx.gateway(), query, { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(ctx.gateway(), query, { Origin: 'https://chat.example.com' })).toBe(101);
    // Non-browser clients send no Origin.
    expect(await upgradeStatus(ctx.gateway(), query)).toBe(101);
  });

  it('refuses a connection beyond the per-user limit with 429, but lets a device reconnect', async () => {
    const user = await ctx.newUser();
    await ctx.connect(user, { deviceId: 'one' });
    await ctx.connect(user, { deviceId: 'two' });
    expect(await upgradeStatus(ctx.gateway(), { token: user.token, deviceId: 'three' })).toBe(429);
    const again = await ctx.connect(user, { deviceId: 'two' });
    expect(again.frames[0]).toMatchObject({ type: 'welcome', deviceId: 'two' });
  });

  it('answers sends over the rate with rate_limited, then closes a persistent abuser with 4429', async () => {
    const [a, b] = [await ctx.newUser(), await ctx.newUser()];
    const conversationId = await ctx.newConversation([a, b]);
    const client = await ctx.connect(a);
    const ids = Array.from({ length: 60 }, (_, i) => `flood-${i}`);
    for (const id of ids)
      client.sendRaw({
        type: 'send',
        clientMsgId: id,
        conversationId,
        contentType: 'text',
        body: { text: id },
      });
    const code = await client.waitClosed();
    const limited = client.frames.filter((f) => f.type === 'error' && f.code === 'rate_limited');
    expect(limited.length).toBeGreaterThanOrEqual(30);
    expect(limited.every((f) => typeof f.ref === 'string' && ids.includes(f.ref))).toBe(true);
    expect(code).toBe(4429);
  });
});
