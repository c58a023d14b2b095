import jwt from 'jsonwebtoken';
import { setup } from '../support/context';
import { isAnswerTo, sendAndAck, upgradeStatus, within } from '../support/helpers';

/** docs/protocol.md §2: the WebSocket connection, its authentication, welcome, heartbeat and close codes. */
describe('connection', () => {
  const ctx = setup();

  /** A user JWT signed here with the stack's key; `claims` and `options` override the valid defaults. */
  function token(
    sub: string,
    claims: Record<string, unknown> = {},
    options: jwt.SignOptions = {},
    key?: string,
  ) {
    const now = Math.floor(Date.now() / 1000);
    return jwt.sign({ sub, iat: now, exp: now + 600, ...claims }, key ?? ctx.stack.jwtSecret, {
      algorithm: 'HS256',
      audience: ctx.stack.jwtAudience,
      ...(ctx.stack.jwtIssuer !== undefined && { issuer: ctx.stack.jwtIssuer }),
      ...options,
    });
  }

  it('greets with welcome as the first frame', async () => {
    const alice = await ctx.newUser('alice');
    const a = await ctx.connect(alice, { deviceId: 'phone-1' });
    expect(a.frames[0]).toEqual({
      type: 'welcome',
      userId: alice.id,
      deviceId: 'phone-1',
      serverTime: expect.any(Number),
      heartbeatMs: ctx.stack.heartbeatMs,
      epoch: expect.stringMatching(/^.{1,64}$/) as string,
    });
  });

  it('refuses a missing, garbage, foreign-signed, expired or wrong-audience token with HTTP 401 and no WebSocket', async () => {
    const alice = await ctx.newUser('alice');
    const url = ctx.gateway(0);
    const deviceId = 'd1';
    // The control: a token made the same way, but valid, is accepted.
    expect(await upgradeStatus(url, { deviceId, token: token(alice.id) })).toBe(101);

    expect(await upgradeStatus(url, { deviceId })).toBe(401);
    expect(await upgradeStatus(url, { deviceId, token: 'garbage' })).toBe(401);
    expect(await upgradeStatus(url, { deviceId }, { Authorization: 'Bearer garbage' })).toBe(401);
    expect(
      await upgradeStatus(url, { deviceId, token: token(alice.id, {}, {}, 'another-secret-key-000000') }),
    ).toBe(401);
    const past = Math.floor(Date.now() / 1000) - 120;
    expect(
      await upgradeStatus(url, { deviceId, token: token(alice.id, { iat: past - 600, exp: past }) }),
    ).toBe(401);
    expect(
      await upgradeStatus(url, { deviceId, token: token(alice.id, {}, { audience: 'someone-else' }) }),
    ).toBe(401);
    // The admin token is not a user token.
    expect(await upgradeStatus(url, { deviceId, token: ctx.stack.adminToken })).toBe(401);
    // Both gateway instances check.
    expect(await upgradeStatus(ctx.gateway(1), { deviceId, token: 'garbage' })).toBe(401);
  });

  it('refuses a missing or invalid deviceId without opening a WebSocket', async () => {
    const alice = await ctx.newUser('alice');
    const url = ctx.gateway(0);
    expect(await upgradeStatus(url, { token: alice.token })).not.toBe(101);
    expect(await upgradeStatus(url, { token: alice.token, deviceId: 'has space' })).not.toBe(101);
    expect(await upgradeStatus(url, { token: alice.token, deviceId: 'd'.repeat(65) })).not.toBe(101);
    expect(await upgradeStatus(url, { token: alice.token, deviceId: 'd'.repeat(64) })).toBe(101);
  });

  it('accepts the token in an Authorization: Bearer header', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const a = await ctx.connect(alice, { auth: 'header', gateway: 1 });
    expect(a.frames[0]).toMatchObject({ type: 'welcome', userId: alice.id });
    expect(await sendAndAck(a, conversationId, 'via header')).toMatchObject({ type: 'ack', conversationId });
  });

  it('answers ping with pong and the server time', async () => {
    const alice = await ctx.newUser('alice');
    const a = await ctx.connect(alice, { ping: false });
    const from = a.frames.length;
    a.sendRaw({ type: 'ping' });
    const pong = await a.next((f) => f.type === 'pong', 5_000, from);
    expect(pong).toEqual({ type: 'pong', serverTime: expect.any(Number) });
    expect(Number.isInteger(pong.serverTime)).toBe(true);
  });

  it('closes the older connection of the same device with 4409, on the same gateway and across gateways', async () => {
    const [alice, bob] = [await ctx.newUser('alice'), await ctx.newUser('bob')];
    const conversationId = await ctx.newConversation([alice, bob]);
    const first = await ctx.connect(alice, { deviceId: 'phone', gateway: 0 });
    const second = await ctx.connect(alice, { deviceId: 'phone', gateway: 0 });
    expect(await within(first.waitClosed(), 10_000, 'the first connection to close')).toBe(4409);

    const third = await ctx.connect(alice, { deviceId: 'phone', gateway: 1 });
    expect(await within(second.waitClosed(), 10_000, 'the second connection to close')).toBe(4409);

    // The newest one works and is the one the device's pushes go to.
    expect(third.closeCode).toBeUndefined();
    const b = await ctx.connect(bob);
    const ack = await sendAndAck(b, conversationId, 'to the newest');
    expect(await third.next((f) => f.type === 'message' && f.seq === ack.seq)).toMatchObject({
      messageId: ack.messageId,
    });
    const from = third.frames.length;
    third.send(conversationId, 'still alive', 'newest-send');
    expect(await third.next((f) => isAnswerTo(f, 'newest-send'), 15_000, from)).toMatchObject({
      type: 'ack',
    });
    // Another device of the same user is not affected.
    const tablet = await ctx.connect(alice, { deviceId: 'tablet', gateway: 0 });
    expect(third.closeCode).toBeUndefined();
    expect(tablet.closeCode).toBeUndefined();
  });

  it('closes a silent client with 4408 after 2 × heartbeat, but keeps one that pings', async () => {
    const alice = await ctx.newUser('alice');
    const silent = await ctx.connect(alice, { ping: false });
    const pinging = await ctx.connect(alice); // pings every heartbeatMs / 3
    const code = await within(
      silent.waitClosed(),
      4 * ctx.stack.heartbeatMs + 4_000,
      'the silent client to be closed',
    );
    expect(code).toBe(4408);
    expect(pinging.closeCode).toBeUndefined();
    const from = pinging.frames.length;
    pinging.sendRaw({ type: 'ping' });
    expect(await pinging.next((f) => f.type === 'pong', 5_000, from)).toMatchObject({ type: 'pong' });
  });

  it('closes a connection whose token expires with 4401', async () => {
    const alice = await ctx.newUser('alice');
    const soon = Math.floor(Date.now() / 1000) + 2;
    const a = await ctx.connect({ id: alice.id, token: token(alice.id, { exp: soon }) });
    expect(await within(a.waitClosed(), 10_000, 'the connection to be closed')).toBe(4401);
  });

  it('closes a connection that sends a frame over 64 KiB with 1009', async () => {
    const alice = await ctx.newUser('alice');
    const a = await ctx.connect(alice);
    a.sendRaw({ type: 'ping', padding: 'p'.repeat(70 * 1024) });
    expect(await within(a.waitClosed(), 10_000, 'the connection to be closed')).toBe(1009);
  });
});
