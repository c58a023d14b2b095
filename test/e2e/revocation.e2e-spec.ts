import { setup } from '../support/context';
import { upgradeStatus } from '../support/helpers';

describe('token revocation', () => {
  const ctx = setup();

  it('DELETE /admin/users/{id}/sessions closes live connections with 4401 and revokes the tokens issued so far', async () => {
    const user = await ctx.newUser();
    const client = await ctx.connect(user, { gateway: 1 });
    expect((await ctx.admin('DELETE', `/admin/users/${user.id}/sessions`)).status).toBe(204);
    expect(await client.waitClosed()).toBe(4401);
    expect(await upgradeStatus(ctx.gateway(0), { token: user.token, deviceId: 'again' })).toBe(401);
    const fresh = await ctx.admin('POST', `/admin/users/${user.id}/tokens`, {});
    expect(await upgradeStatus(ctx.gateway(0), { token: fresh.body.token, deviceId: 'again' })).toBe(101);
  });

  it('DELETE /admin/users/{id}/tokens/{jti} revokes that token only', async () => {
    const user = await ctx.newUser();
    const other = await ctx.admin('POST', `/admin/users/${user.id}/tokens`, {});
    const revoked = await ctx.admin('POST', `/admin/users/${user.id}/tokens`, {});
    const keep = await ctx.connect({ id: user.id, token: other.body.token }, { deviceId: 'keep' });
    const drop = await ctx.connect({ id: user.id, token: revoked.body.token }, { deviceId: 'drop' });
    // The jti is in the token's payload (the admin answer is exactly {token, expiresAt}).
    const payload = Buffer.from((revoked.body.token as string).split('.')[1], 'base64url').toString();
    const { jti } = JSON.parse(payload) as { jti: string };
    expect((await ctx.admin('DELETE', `/admin/users/${user.id}/tokens/${jti}`)).status).toBe(204);
    expect(await drop.waitClosed()).toBe(4401);
    expect(await upgradeStatus(ctx.gateway(1), { token: revoked.body.token, deviceId: 'drop' })).toBe(401);
    expect((await keep.request({ type: 'conversations' })).type).toBe('conversations_result');
  });
});
