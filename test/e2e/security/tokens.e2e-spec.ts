import { createHmac, generateKeyPairSync, KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { setup, TestContext } from '../../support/context';
import { sendAndAck, upgradeStatus } from '../../support/helpers';
import { OwnStack, startOwnStack } from '../../support/own-stack';

/**
 * docs/protocol.md §2 at the WebSocket upgrade: every token that is not a valid one of the configured
 * algorithm, key, audience (and issuer, where one is configured) gets HTTP 401 and no WebSocket.
 * What a valid token needs, and what it may leave out, is token-claims.e2e-spec.ts.
 */

const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT assembled by hand: header and payload as given, signature as given (default none). */
function handMade(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  return `${b64url(header)}.${b64url(payload)}.${signature}`;
}

/** HMAC-SHA256 over header.payload with `secret` as the key, the way HS256 does it. */
function hs256ByHand(payload: Record<string, unknown>, secret: string | Buffer): string {
  const unsigned = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);

/** Standard claims of a valid user token for `sub`, overridable. */
const claims = (ctx: TestContext, sub: string, over: Record<string, unknown> = {}) => ({
  sub,
  aud: ctx.stack.jwtAudience,
  ...(ctx.stack.jwtIssuer !== undefined && { iss: ctx.stack.jwtIssuer }),
  iat: now(),
  exp: now() + 600,
  ...over,
});

const rsa = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
const ec = () =>
  generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

describe('security: tokens at the WebSocket upgrade (HS256 stack)', () => {
  const ctx = setup();
  const deviceId = 'sec-tok';
  let userId: string;

  /** Signed with jsonwebtoken; payload claims complete, `algorithm` and key as given. */
  const signed = (payload: Record<string, unknown>, key: string | KeyObject, algorithm: jwt.Algorithm) =>
    jwt.sign(payload, key, { algorithm });

  const status = (token: string | undefined, gateway = 0, headers: Record<string, string> = {}) =>
    upgradeStatus(ctx.gateway(gateway), token === undefined ? { deviceId } : { deviceId, token }, headers);

  beforeAll(async () => {
    userId = (await ctx.newUser('tok')).id;
  });

  it('accepts the control: a token made here with the stack’s secret, audience and issuer', async () => {
    expect(await status(signed(claims(ctx, userId), ctx.stack.jwtSecret, 'HS256'))).toBe(101);
    expect(await status(hs256ByHand(claims(ctx, userId), ctx.stack.jwtSecret))).toBe(101);
  });

  it('refuses a missing, empty or garbage token, on both gateways, in the query and in the header', async () => {
    for (const gateway of [0, 1]) {
      expect(await status(undefined, gateway)).toBe(401);
      expect(await status('', gateway)).toBe(401);
      expect(await status('garbage', gateway)).toBe(401);
      expect(await status('a.b.c', gateway)).toBe(401);
      expect(await status('..', gateway)).toBe(401);
      expect(await status(undefined, gateway, { Authorization: 'Bearer garbage' })).toBe(401);
      expect(await status(undefined, gateway, { Authorization: 'Bearer ' })).toBe(401);
      // Another scheme carrying a valid token is not a bearer token.
      const valid = signed(claims(ctx, userId), ctx.stack.jwtSecret, 'HS256');
      expect(await status(undefined, gateway, { Authorization: `Basic ${valid}` })).toBe(401);
      // The admin token is not a user token.
      expect(await status(ctx.stack.adminToken, gateway)).toBe(401);
    }
  });

  it('refuses expired, not-yet-valid and exp-less tokens', async () => {
    const secret = ctx.stack.jwtSecret;
    expect(await status(signed(claims(ctx, userId, { exp: now() - 60 }), secret, 'HS256'))).toBe(401);
    expect(await status(signed(claims(ctx, userId, { exp: now() - 1 }), secret, 'HS256'))).toBe(401);
    expect(await status(signed(claims(ctx, userId, { nbf: now() + 300 }), secret, 'HS256'))).toBe(401);
    const noExp: Record<string, unknown> = claims(ctx, userId);
    delete noExp.exp;
    expect(await status(signed(noExp, secret, 'HS256'))).toBe(401);
    expect(await status(hs256ByHand(claims(ctx, userId, { exp: 'tomorrow' }), secret))).toBe(401);
  });

  // The issuer is checked only where JWT_ISSUER is set: the RS256 stack below, and token-claims.
  it('refuses a wrong or missing audience', async () => {
    const secret = ctx.stack.jwtSecret;
    expect(await status(signed(claims(ctx, userId, { aud: 'someone-else' }), secret, 'HS256'))).toBe(401);
    const noAud: Record<string, unknown> = claims(ctx, userId);
    delete noAud.aud;
    expect(await status(signed(noAud, secret, 'HS256'))).toBe(401);
  });

  it('refuses a missing or malformed subject', async () => {
    const secret = ctx.stack.jwtSecret;
    const noSub: Record<string, unknown> = claims(ctx, userId);
    delete noSub.sub;
    expect(await status(signed(noSub, secret, 'HS256'))).toBe(401);
    expect(await status(hs256ByHand(claims(ctx, userId, { sub: 42 }), secret))).toBe(401);
    expect(await status(signed(claims(ctx, userId, { sub: 'a b' }), secret, 'HS256'))).toBe(401);
    expect(await status(signed(claims(ctx, userId, { sub: '../admin' }), secret, 'HS256'))).toBe(401);
    expect(await status(signed(claims(ctx, userId, { sub: 'x'.repeat(65) }), secret, 'HS256'))).toBe(401);
  });

  it('refuses `alg: none` in every spelling, with or without a signature part', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const header = { alg, typ: 'JWT' };
      expect(await status(handMade(header, claims(ctx, userId)))).toBe(401);
      expect(await status(handMade(header, claims(ctx, userId)).slice(0, -1))).toBe(401); // no trailing dot
      expect(await status(handMade(header, claims(ctx, userId), 'c2lnbmF0dXJl'))).toBe(401);
    }
  });

  it('refuses a tampered token: another subject under the original signature', async () => {
    const victim = await ctx.newUser('victim');
    const [header, , signature] = signed(claims(ctx, userId), ctx.stack.jwtSecret, 'HS256').split('.');
    const forged = `${header}.${b64url(claims(ctx, victim.id))}.${signature}`;
    expect(await status(forged)).toBe(401);
  });

  it('refuses tokens of other algorithms, even with the right secret (the algorithm is pinned)', async () => {
    const secret = ctx.stack.jwtSecret;
    expect(await status(signed(claims(ctx, userId), secret, 'HS384'))).toBe(401);
    expect(await status(signed(claims(ctx, userId), secret, 'HS512'))).toBe(401);
    expect(await status(signed(claims(ctx, userId), 'another-secret-of-32-characters!', 'HS256'))).toBe(401);
  });

  it('refuses an RS256 or ES256 token signed with some generated key (HS/RS confusion, direction a)', async () => {
    const keys = rsa();
    expect(await status(signed(claims(ctx, userId), keys.privateKey, 'RS256'))).toBe(401);
    // Also with the RSA public key claimed as the HMAC secret of an HS256 token.
    expect(await status(hs256ByHand(claims(ctx, userId), keys.publicKey))).toBe(401);
    expect(await status(signed(claims(ctx, userId), ec().privateKey, 'ES256'))).toBe(401);
  });

  it('lets a valid connection do its work (the refusals above are not the gateway refusing everyone)', async () => {
    const [a, b] = [await ctx.newUser('tok-a'), await ctx.newUser('tok-b')];
    const conversationId = await ctx.newConversation([a, b]);
    const client = await ctx.connect({
      id: a.id,
      token: signed(claims(ctx, a.id), ctx.stack.jwtSecret, 'HS256'),
    });
    expect(client.frames[0]).toMatchObject({ type: 'welcome', userId: a.id });
    expect(await sendAndAck(client, conversationId, 'hello')).toMatchObject({ type: 'ack', conversationId });
  });
});

describe('security: tokens on a stack configured for RS256', () => {
  let own: OwnStack;
  const keys = rsa();
  const otherRsa = rsa();
  const ecKeys = ec();

  beforeAll(async () => {
    own = await startOwnStack({
      name: 'sec-rs256',
      env: {
        JWT_ALGORITHM: 'RS256',
        JWT_PUBLIC_KEY: keys.publicKey,
        JWT_PRIVATE_KEY: keys.privateKey,
        // So that the foreign-issuer refusal below has an issuer to differ from.
        JWT_ISSUER: 'im-backend',
      },
      instances: { gateway: 1 },
    });
  }, 120_000);

  afterAll(async () => {
    await own?.stop();
  }, 60_000);

  const status = (token: string) => upgradeStatus(own.ctx.gateway(0), { deviceId: 'rs-dev', token });
  const rsClaims = (sub: string, over: Record<string, unknown> = {}) => claims(own.ctx, sub, over);

  it('welcomes a valid RS256 token, made here or issued by the admin API, and it works', async () => {
    const [a, b] = [await own.ctx.newUser('rs-a'), await own.ctx.newUser('rs-b')];
    expect(jwt.decode(a.token, { complete: true })?.header.alg).toBe('RS256');
    const conversationId = await own.ctx.newConversation([a, b]);
    const local = jwt.sign(rsClaims(a.id), keys.privateKey, { algorithm: 'RS256' });
    const viaLocal = await own.ctx.connect({ id: a.id, token: local });
    expect(viaLocal.frames[0]).toMatchObject({ type: 'welcome', userId: a.id });
    const viaAdmin = await own.ctx.connect(b);
    expect(viaAdmin.frames[0]).toMatchObject({ type: 'welcome', userId: b.id });
    expect(await sendAndAck(viaLocal, conversationId, 'rs256 works')).toMatchObject({ type: 'ack' });
  });

  it('refuses an HS256 token whose HMAC key is the public key PEM (the classic confusion attack)', async () => {
    const user = await own.ctx.newUser('rs-victim');
    const pem = keys.publicKey;
    expect(await status(hs256ByHand(rsClaims(user.id), pem))).toBe(401);
    expect(await status(hs256ByHand(rsClaims(user.id), pem.trim()))).toBe(401);
    expect(await status(hs256ByHand(rsClaims(user.id), pem.replace(/\n/g, '\r\n')))).toBe(401);
    // The DER bytes of the same key, in case a library normalises PEM to DER.
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(await status(hs256ByHand(rsClaims(user.id), der))).toBe(401);
    // The same with HS384/HS512 headers, signed by jsonwebtoken with the PEM as a secret.
    for (const alg of ['HS384', 'HS512'] as const) {
      const unsigned = `${b64url({ alg, typ: 'JWT' })}.${b64url(rsClaims(user.id))}`;
      const mac = createHmac(alg === 'HS384' ? 'sha384' : 'sha512', pem)
        .update(unsigned)
        .digest('base64url');
      expect(await status(`${unsigned}.${mac}`)).toBe(401);
    }
  });

  it('refuses ES256, another RSA key, other RSA algorithms and `alg: none`', async () => {
    const user = await own.ctx.newUser('rs-other');
    expect(await status(jwt.sign(rsClaims(user.id), ecKeys.privateKey, { algorithm: 'ES256' }))).toBe(401);
    expect(await status(jwt.sign(rsClaims(user.id), otherRsa.privateKey, { algorithm: 'RS256' }))).toBe(401);
    expect(await status(jwt.sign(rsClaims(user.id), keys.privateKey, { algorithm: 'PS256' }))).toBe(401);
    expect(await status(jwt.sign(rsClaims(user.id), keys.privateKey, { algorithm: 'RS512' }))).toBe(401);
    expect(await status(handMade({ alg: 'none', typ: 'JWT' }, rsClaims(user.id)))).toBe(401);
    expect(await status(handMade({ alg: 'RS256', typ: 'JWT' }, rsClaims(user.id)))).toBe(401); // no signature
    // The HS256 secret the shared stack would use means nothing here.
    expect(await status(hs256ByHand(rsClaims(user.id), own.env.JWT_SECRET))).toBe(401);
  });

  it('refuses an RS256 token with the right key but an expired, foreign-audience or foreign-issuer claim', async () => {
    const user = await own.ctx.newUser('rs-claims');
    const sign = (over: Record<string, unknown>) =>
      jwt.sign(rsClaims(user.id, over), keys.privateKey, { algorithm: 'RS256' });
    expect(await status(sign({}))).toBe(101); // control
    expect(await status(sign({ exp: now() - 30 }))).toBe(401);
    expect(await status(sign({ aud: 'other' }))).toBe(401);
    expect(await status(sign({ iss: 'other' }))).toBe(401);
  });

  it('answers the admin API 403 for a user’s RS256 token and 401 for a confused one', async () => {
    const user = await own.ctx.newUser('rs-admin');
    expect((await own.ctx.admin('GET', `/admin/users/${user.id}`, undefined, user.token)).status).toBe(403);
    const confused = hs256ByHand(rsClaims(user.id), keys.publicKey);
    expect((await own.ctx.admin('GET', `/admin/users/${user.id}`, undefined, confused)).status).toBe(401);
    expect((await own.ctx.admin('GET', `/admin/users/${user.id}`)).status).toBe(200);
  });
});
