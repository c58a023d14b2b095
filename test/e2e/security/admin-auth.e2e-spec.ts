import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AdminResponse, setup, TestUser } from '../../support/context';
import { sendAndAck, upgradeStatus, within } from '../../support/helpers';
import { TestClient } from '../../support/test-client';

/**
 * docs/protocol.md §5 / G6: every admin call needs ADMIN_TOKEN. Without a token: 401; with a user's
 * token: 403; with anything else: 401. Refused calls change nothing and return no data.
 */
describe('security: every admin route refuses callers without the admin token', () => {
  const ctx = setup();
  let user: TestUser;
  let other: TestUser;
  let conversationId: string;
  let messageId: string;
  let broadcastId: string;
  let jti: string;
  let userClient: TestClient;
  /** User ids the refused calls tried to create. */
  const attempted: string[] = [];
  const attempt = (id: string) => (attempted.push(id), id);

  interface Route {
    method: string;
    path: () => string;
    body?: () => unknown;
  }

  /** Every call of docs/protocol.md §5, plus token revocation by jti (in the code, not in the table). */
  const routes: Route[] = [
    {
      method: 'POST',
      path: () => '/admin/users',
      body: () => ({ id: attempt(`created-${randomUUID().slice(0, 8)}`) }),
    },
    { method: 'GET', path: () => `/admin/users/${user.id}` },
    { method: 'POST', path: () => `/admin/users/${user.id}/tokens`, body: () => ({}) },
    {
      method: 'POST',
      path: () => '/admin/conversations',
      body: () => ({ type: 'group', memberIds: [user.id, other.id], title: 'sneaky' }),
    },
    { method: 'GET', path: () => `/admin/conversations/${conversationId}` },
    {
      method: 'POST',
      path: () => `/admin/conversations/${conversationId}/members`,
      body: () => ({ userIds: [other.id] }),
    },
    { method: 'DELETE', path: () => `/admin/conversations/${conversationId}/members/${user.id}` },
    { method: 'GET', path: () => `/admin/conversations/${conversationId}/messages?afterSeq=0&limit=200` },
    {
      method: 'POST',
      path: () => `/admin/conversations/${conversationId}/messages`,
      body: () => ({ clientMsgId: `adm-${randomUUID().slice(0, 8)}`, body: { text: 'fake system' } }),
    },
    { method: 'GET', path: () => `/admin/messages/${messageId}` },
    {
      method: 'POST',
      path: () => '/admin/broadcasts',
      body: () => ({ userIds: [user.id], body: { text: 'x' } }),
    },
    { method: 'GET', path: () => `/admin/broadcasts/${broadcastId}` },
    { method: 'GET', path: () => `/admin/users/${user.id}/sessions` },
    { method: 'DELETE', path: () => `/admin/users/${user.id}/sessions` },
    { method: 'DELETE', path: () => `/admin/users/${user.id}/tokens/${jti}` },
  ];

  const call = (route: Route, token: string | null, gateway = 0): Promise<AdminResponse> =>
    fetch(`${ctx.gateway(gateway)}${route.path()}`, {
      method: route.method,
      headers: {
        ...(token !== null ? { Authorization: token } : {}),
        ...(route.body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: route.body ? JSON.stringify(route.body()) : undefined,
    }).then(async (res) => {
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
    });

  beforeAll(async () => {
    [user, other] = [await ctx.newUser('adm-user'), await ctx.newUser('adm-other')];
    conversationId = await ctx.newConversation([user, other, await ctx.newUser('adm-third')], 'group');
    userClient = await ctx.connect(user, { deviceId: 'adm-device' });
    messageId = (await sendAndAck(userClient, conversationId, 'admin-auth')).messageId as string;
    broadcastId = (await ctx.admin('POST', '/admin/broadcasts', { userIds: [other.id], body: { text: 'b' } }))
      .body.id as string;
    const payload = jwt.decode(user.token);
    jti = typeof payload === 'object' && payload && typeof payload.jti === 'string' ? payload.jti : 'no-jti';
  });

  /** The state refused calls must not change. */
  async function snapshot() {
    const conversation = await ctx.admin('GET', `/admin/conversations/${conversationId}`);
    const messages = await ctx.admin('GET', `/admin/conversations/${conversationId}/messages?limit=200`);
    const sessions = await ctx.admin('GET', `/admin/users/${user.id}/sessions`);
    return {
      members: [...(conversation.body.memberIds as string[])].sort(),
      lastSeq: conversation.body.lastSeq as number,
      messages: (messages.body.messages as { messageId: string }[]).map((m) => m.messageId),
      sessions: (sessions.body as { deviceId: string }[]).map((s) => s.deviceId).sort(),
    };
  }

  it('answers 401 without a token, 403 with a user token, 401 with anything else, on every route and both gateways', async () => {
    const before = await snapshot();
    const expired = jwt.sign(
      { sub: user.id, iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 60 },
      ctx.stack.jwtSecret,
      {
        algorithm: 'HS256',
        audience: ctx.stack.jwtAudience,
        ...(ctx.stack.jwtIssuer !== undefined && { issuer: ctx.stack.jwtIssuer }),
      },
    );
    const credentials: [string, string | null, number][] = [
      ['none', null, 401],
      ['empty bearer', 'Bearer ', 401],
      ['garbage bearer', 'Bearer not-the-admin-token', 401],
      ['user token', `Bearer ${user.token}`, 403],
      ['expired user token', `Bearer ${expired}`, 401],
      ['admin token without Bearer', ctx.stack.adminToken, 401],
      ['admin token as Basic', `Basic ${ctx.stack.adminToken}`, 401],
      ['admin token with a suffix', `Bearer ${ctx.stack.adminToken}x`, 401],
      ['admin token prefix', `Bearer ${ctx.stack.adminToken.slice(0, -1)}`, 401],
    ];
    const results: string[] = [];
    for (const gateway of [0, 1]) {
      for (const route of routes) {
        for (const [name, token, expected] of credentials) {
          const res = await call(route, token, gateway);
          const leaked = JSON.stringify(res.body ?? '');
          const ok =
            res.status === expected &&
            !leaked.includes('"token"') &&
            !leaked.includes(user.id) &&
            !leaked.includes(messageId);
          if (!ok)
            results.push(
              `${route.method} ${route.path()} [${name}] on gateway ${gateway}: ${res.status} ${leaked}`,
            );
        }
      }
    }
    expect(results).toEqual([]);
    // The admin token in the query string is not accepted either.
    const query = await fetch(`${ctx.gateway(0)}/admin/users/${user.id}?token=${ctx.stack.adminToken}`);
    expect(query.status).toBe(401);

    // None of it had an effect: same members, messages and sessions; the user's connection lives.
    expect(await snapshot()).toEqual(before);
    expect(userClient.closeCode).toBeUndefined();
    expect(attempted.length).toBeGreaterThan(0);
    for (const id of attempted)
      expect({ id, status: (await ctx.admin('GET', `/admin/users/${id}`)).status }).toEqual({
        id,
        status: 404,
      });
    // No conversation was created for the user, no broadcast reached them, their token still works.
    const list = await userClient.request({ type: 'conversations' });
    expect((list.conversations as { conversationId: string }[]).map((c) => c.conversationId)).toEqual([
      conversationId,
    ]);
    expect(await upgradeStatus(ctx.gateway(0), { deviceId: 'adm-check', token: user.token })).toBe(101);
  });

  it('answers errors as {statusCode, error, message}', async () => {
    const res = await call(routes[1], null);
    expect(res).toEqual({
      status: 401,
      body: { statusCode: 401, error: expect.any(String), message: expect.anything() },
    });
    const forbidden = await call(routes[1], `Bearer ${user.token}`);
    expect(forbidden).toEqual({
      status: 403,
      body: { statusCode: 403, error: expect.any(String), message: expect.anything() },
    });
  });

  it('still serves the admin with the real token (the routes above exist and work)', async () => {
    for (const route of routes.filter((r) => r.method === 'GET')) {
      const res = await call(route, `Bearer ${ctx.stack.adminToken}`);
      expect({ route: route.path(), status: res.status }).toEqual({ route: route.path(), status: 200 });
    }
    // And DELETE sessions with the admin token really closes (so a 401/403 above was a refusal).
    const closed = await call(routes[13], `Bearer ${ctx.stack.adminToken}`);
    expect(closed.status).toBe(204);
    expect(await within(userClient.waitClosed(), 10_000, 'the user to be disconnected')).toBe(4401);
  });
});
