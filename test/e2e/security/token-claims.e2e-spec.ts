import { createHmac } from 'node:crypto';
import { setup, TestContext } from '../../support/context';
import { OwnStack, startOwnStack } from '../../support/own-stack';

/**
 * docs/protocol.md §2, the claims of a user token as an app server mints it: `sub`, `aud` and `exp` are
 * all it needs; `nbf` is honoured; `iss` is checked only when JWT_ISSUER is set; `iat` is
 * optional unless the user's sessions were revoked, then it must not be before the revocation
 * (whole seconds). Tokens are signed here with node:crypto alone, as an app server in any
 * language would, so that no JWT library's defaults (an `iat` it adds, say) hide a problem.
 */

const now = () => Math.floor(Date.now() / 1000);

/** HS256 by hand: base64url header and payload, HMAC-SHA256 over both with the secret. */
function hs256(payload: Record<string, unknown>, secret: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const payloadOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

/** Exactly what the contract requires, and nothing else unless added. */
const minimal = (ctx: TestContext, sub: string, extra: Record<string, unknown> = {}) => ({
  sub,
  aud: ctx.stack.jwtAudience,
  exp: now() + 600,
  ...extra,
});

/** The first frame of a WebSocket opened with `token` (then closed); rejects `HTTP <status>`. */
async function firstFrame(ctx: TestContext, userId: string, token: string) {
  const client = await ctx.connect({ id: userId, token });
  client.close();
  return client.frames[0];
}

const accepted = async (ctx: TestContext, userId: string, claims: Record<string, unknown>) =>
  expect(await firstFrame(ctx, userId, hs256(claims, ctx.stack.jwtSecret))).toMatchObject({
    type: 'welcome',
    userId,
  });

const refused = (ctx: TestContext, userId: string, claims: Record<string, unknown>) =>
  expect(firstFrame(ctx, userId, hs256(claims, ctx.stack.jwtSecret))).rejects.toThrow('HTTP 401');

describe('token claims on the shared stack (no JWT_ISSUER)', () => {
  const ctx = setup();

  it('runs without an issuer configured (the default)', () => {
    expect(ctx.stack.jwtIssuer).toBeUndefined();
  });

  it('welcomes {sub, aud, exp} alone, and with an iat', async () => {
    const user = await ctx.newUser('claims');
    await accepted(ctx, user.id, minimal(ctx, user.id));
    await accepted(ctx, user.id, minimal(ctx, user.id, { iat: now() }));
    await accepted(ctx, user.id, minimal(ctx, user.id, { iat: now() - 3600 }));
  });

  it('still needs exp', async () => {
    const user = await ctx.newUser('claims');
    await refused(ctx, user.id, { sub: user.id, aud: ctx.stack.jwtAudience });
  });

  it('honours nbf: refused before it, welcomed after it', async () => {
    const user = await ctx.newUser('claims');
    await refused(ctx, user.id, minimal(ctx, user.id, { nbf: now() + 300 }));
    await accepted(ctx, user.id, minimal(ctx, user.id, { nbf: now() - 60 }));
  });

  it('takes any iss, since none is configured', async () => {
    const user = await ctx.newUser('claims');
    await accepted(ctx, user.id, minimal(ctx, user.id, { iss: 'some-app-server' }));
    await accepted(ctx, user.id, minimal(ctx, user.id, { iss: 'im-backend' }));
  });

  it('after DELETE /admin/users/{id}/sessions: refuses tokens without iat or with an earlier one, welcomes newer ones', async () => {
    const user = await ctx.newUser('claims');
    await accepted(ctx, user.id, minimal(ctx, user.id)); // before the revocation, no iat is fine
    const before = Date.now();
    expect((await ctx.admin('DELETE', `/admin/users/${user.id}/sessions`)).status).toBe(204);
    const justAfter = now();

    await refused(ctx, user.id, minimal(ctx, user.id));
    await refused(ctx, user.id, minimal(ctx, user.id, { iat: now() - 60 }));
    // The second before the one the revocation happened in (the server's clock is ours).
    await refused(ctx, user.id, minimal(ctx, user.id, { iat: Math.floor(before / 1000) - 1 }));
    // Minted right after the revocation answered: in its second or later, so accepted.
    await accepted(ctx, user.id, minimal(ctx, user.id, { iat: justAfter }));
    await accepted(ctx, user.id, minimal(ctx, user.id, { iat: Math.floor(before / 1000) + 2 }));
    // The admin API's own tokens go by iat_ms: the one from before is refused, a new one works.
    await expect(firstFrame(ctx, user.id, user.token)).rejects.toThrow('HTTP 401');
    const fresh = await ctx.admin('POST', `/admin/users/${user.id}/tokens`, {});
    expect(await firstFrame(ctx, user.id, fresh.body.token as string)).toMatchObject({ type: 'welcome' });
  });

  it('issues admin API tokens without iss', async () => {
    const user = await ctx.newUser('claims');
    const payload = payloadOf(user.token);
    expect(payload).not.toHaveProperty('iss');
    expect(payload).toMatchObject({ sub: user.id, aud: ctx.stack.jwtAudience });
  });
});

describe('token claims on a stack with JWT_ISSUER set', () => {
  const issuer = 'issuer-under-test';
  let own: OwnStack;

  beforeAll(async () => {
    own = await startOwnStack({
      name: 'sec-iss',
      env: { JWT_ISSUER: issuer },
      instances: { gateway: 1, sequencer: 0, storage: 0, delivery: 0 },
    });
  }, 120_000);

  afterAll(async () => {
    await own?.stop();
  }, 60_000);

  it('refuses a token without iss or with another one, and welcomes the configured one', async () => {
    const { ctx } = own;
    expect(ctx.stack.jwtIssuer).toBe(issuer);
    const user = await ctx.newUser('iss');
    await refused(ctx, user.id, minimal(ctx, user.id));
    await refused(ctx, user.id, minimal(ctx, user.id, { iss: 'im-backend' }));
    await refused(ctx, user.id, minimal(ctx, user.id, { iss: `${issuer}x` }));
    await accepted(ctx, user.id, minimal(ctx, user.id, { iss: issuer }));
  });

  it('issues admin API tokens with the configured iss, and they work', async () => {
    const { ctx } = own;
    const user = await ctx.newUser('iss');
    expect(payloadOf(user.token).iss).toBe(issuer);
    expect(await firstFrame(ctx, user.id, user.token)).toMatchObject({ type: 'welcome', userId: user.id });
  });
});
