import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadConfig } from '@im/config';
import { TokenService } from './token.service';

const SECRET = 'b'.repeat(32);
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 token made the way an app server would, without our library. */
function sign(payload: Record<string, unknown>, secret = SECRET): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const payloadOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

/** The two Redis calls the service makes, over a Map. */
function fakeRedis(): { redis: Redis; store: Map<string, string> } {
  const store = new Map<string, string>();
  const redis = {
    mget: async (...keys: string[]) => keys.map((k) => store.get(k) ?? null),
    set: async (key: string, value: string | number) => {
      store.set(key, String(value));
      return 'OK';
    },
  } as unknown as Redis;
  return { redis, store };
}

function service(env: Record<string, string> = {}) {
  const { redis, store } = fakeRedis();
  const config = loadConfig({ ADMIN_TOKEN: 'a'.repeat(32), JWT_SECRET: SECRET, ...env });
  return { tokens: new TokenService(config, redis), store };
}

describe('TokenService.verify', () => {
  const base = () => ({ sub: 'u1', aud: 'im', exp: now() + 600 });

  it('accepts the minimal contract token {sub, aud, exp}, and any iss when no issuer is configured', () => {
    const { tokens } = service();
    expect(tokens.verify(sign(base()))).toMatchObject({ userId: 'u1', issuedAt: undefined });
    expect(tokens.verify(sign({ ...base(), iss: 'anyone' }))).toMatchObject({ userId: 'u1' });
  });

  it('needs exp and the audience, honours nbf and refuses a malformed iat', () => {
    const { tokens } = service();
    expect(tokens.verify(sign({ sub: 'u1', aud: 'im' }))).toBeNull();
    expect(tokens.verify(sign({ ...base(), aud: 'other' }))).toBeNull();
    expect(tokens.verify(sign({ ...base(), nbf: now() + 60 }))).toBeNull();
    expect(tokens.verify(sign({ ...base(), nbf: now() - 60 }))).not.toBeNull();
    expect(tokens.verify(sign({ ...base(), iat: 'yesterday' }))).toBeNull();
  });

  it('checks iss only when JWT_ISSUER is set', () => {
    const { tokens } = service({ JWT_ISSUER: 'issuer-under-test' });
    expect(tokens.verify(sign(base()))).toBeNull();
    expect(tokens.verify(sign({ ...base(), iss: 'other' }))).toBeNull();
    expect(tokens.verify(sign({ ...base(), iss: 'issuer-under-test' }))).not.toBeNull();
  });

  it('issues tokens that carry iss only when JWT_ISSUER is set', () => {
    expect(payloadOf(service().tokens.issue('u1').token)).not.toHaveProperty('iss');
    const configured = service({ JWT_ISSUER: 'issuer-under-test' }).tokens;
    const issued = configured.issue('u1').token;
    expect(payloadOf(issued).iss).toBe('issuer-under-test');
    expect(configured.verify(issued)).toMatchObject({ userId: 'u1' });
  });
});

describe('TokenService.isRevoked after a session revocation', () => {
  it('revokes tokens without iat, with an iat before the revocation second, and admin tokens by iat_ms', async () => {
    const { tokens, store } = service();
    const issuedNow = tokens.verify(tokens.issue('u1').token)!;
    const revokedAtMs = 1_000_000_000_500; // half way through a second, in 2001
    store.set('jwt:revoked-before:u1', String(revokedAtMs)); // the prefix is ioredis' keyPrefix
    const revokedAtS = Math.floor(revokedAtMs / 1000);
    const identity = (issuedAt?: { ms: number } | { seconds: number }) => ({
      userId: 'u1',
      expiresAt: now() + 600,
      issuedAt,
    });
    expect(await tokens.isRevoked(issuedNow)).toBe(false); // iat_ms years after the mark
    expect(await tokens.isRevoked(identity())).toBe(true);
    expect(await tokens.isRevoked(identity({ seconds: revokedAtS - 1 }))).toBe(true);
    expect(await tokens.isRevoked(identity({ seconds: revokedAtS }))).toBe(false);
    expect(await tokens.isRevoked(identity({ seconds: revokedAtS + 1 }))).toBe(false);
    expect(await tokens.isRevoked(identity({ ms: revokedAtMs - 1 }))).toBe(true);
    expect(await tokens.isRevoked(identity({ ms: revokedAtMs }))).toBe(false);
    // The mark is the user's own.
    expect(await tokens.isRevoked({ ...identity(), userId: 'u2' })).toBe(false);
  });

  it('revokes every token issued until revokeUserTokens', async () => {
    const { tokens } = service();
    const before = tokens.verify(sign({ sub: 'u1', aud: 'im', exp: now() + 600, iat: now() - 5 }))!;
    const bare = tokens.verify(sign({ sub: 'u1', aud: 'im', exp: now() + 600 }))!;
    expect(await tokens.isRevoked(bare)).toBe(false);
    await tokens.revokeUserTokens('u1');
    expect(await tokens.isRevoked(before)).toBe(true);
    expect(await tokens.isRevoked(bare)).toBe(true);
  });
});
