import {
  createHash,
  createPublicKey,
  createSecretKey,
  KeyObject,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { AppConfig } from '@im/config';
import { ENTITY_ID_PATTERN } from '@im/protocol';
import { getMany, REDIS, type RedisClient } from '@im/realtime';

const denyKey = (jti: string) => `jwt:deny:${jti}`;
const revokedBeforeKey = (userId: string) => `jwt:revoked-before:${userId}`;
/** Longer than any token lives (the admin API issues at most 30 days). */
const REVOCATION_TTL_SECONDS = 31 * 24 * 3600;

export interface UserIdentity {
  userId: string;
  /** Seconds since epoch. */
  expiresAt: number;
  /**
   * When the token was issued, for session revocation: our own `iat_ms` claim (admin API) in
   * milliseconds, else the standard `iat` in whole seconds; absent when the token has neither.
   */
  issuedAt?: { ms: number } | { seconds: number };
  jti?: string;
}

/**
 * Verifies user JWTs (algorithm pinned, audience, expiry, `nbf`, and the issuer only when
 * JWT_ISSUER is set: docs/protocol.md §2) and issues them for the admin API.
 */
@Injectable()
export class TokenService {
  /**
   * Built once: given a string, jsonwebtoken first tries to parse it as a public key on every
   * verify, which was the gateway's largest cost when 10,000 devices connected.
   */
  private readonly verifyKey: KeyObject;
  private readonly adminDigest: Buffer;

  constructor(
    private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {
    this.verifyKey =
      config.JWT_ALGORITHM === 'HS256'
        ? createSecretKey(Buffer.from(config.JWT_SECRET!))
        : createPublicKey(config.JWT_PUBLIC_KEY!);
    this.adminDigest = createHash('sha256').update(config.ADMIN_TOKEN).digest();
  }

  /** The identity in a valid token, or null for anything else. */
  verify(token: string | undefined | null): UserIdentity | null {
    if (!token) return null;
    try {
      // jsonwebtoken refuses a token whose `nbf` is in the future (ignoreNotBefore stays off).
      const claims = jwt.verify(token, this.verifyKey, {
        algorithms: [this.config.JWT_ALGORITHM],
        audience: this.config.JWT_AUDIENCE,
        ...(this.config.JWT_ISSUER !== undefined && { issuer: this.config.JWT_ISSUER }),
      });
      if (typeof claims !== 'object' || typeof claims.sub !== 'string' || !ENTITY_ID_PATTERN.test(claims.sub))
        return null;
      if (typeof claims.exp !== 'number') return null;
      // `iat` is optional, but one that is there must be a time.
      if (claims.iat !== undefined && !Number.isFinite(claims.iat)) return null;
      const issuedAt =
        typeof claims.iat_ms === 'number' && Number.isFinite(claims.iat_ms)
          ? { ms: claims.iat_ms }
          : claims.iat !== undefined
            ? { seconds: claims.iat }
            : undefined;
      return { userId: claims.sub, expiresAt: claims.exp, issuedAt, jti: claims.jti };
    } catch {
      return null;
    }
  }

  issue(
    userId: string,
    ttlSeconds = this.config.JWT_DEFAULT_TTL_SECONDS,
  ): { token: string; expiresAt: string; jti: string } {
    const key = this.config.JWT_ALGORITHM === 'HS256' ? this.config.JWT_SECRET : this.config.JWT_PRIVATE_KEY;
    if (!key) throw new Error('JWT_PRIVATE_KEY is needed to issue tokens with ' + this.config.JWT_ALGORITHM);
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    const jti = randomUUID();
    const token = jwt.sign({ sub: userId, iat: now, iat_ms: nowMs, exp: now + ttlSeconds, jti }, key, {
      algorithm: this.config.JWT_ALGORITHM,
      audience: this.config.JWT_AUDIENCE,
      ...(this.config.JWT_ISSUER !== undefined && { issuer: this.config.JWT_ISSUER }),
    });
    return { token, expiresAt: new Date((now + ttlSeconds) * 1000).toISOString(), jti };
  }

  /**
   * Whether a verified token was revoked: its jti is denied, or its user's sessions were
   * revoked after it was issued (a token that does not say when it was issued counts as before).
   */
  async isRevoked(identity: UserIdentity): Promise<boolean> {
    // Two slots on a Redis Cluster (a token's key, a user's key): getMany splits the MGET there.
    const [denied, revokedBefore] = await getMany(this.redis, [
      denyKey(identity.jti ?? '-'),
      revokedBeforeKey(identity.userId),
    ]);
    if (denied !== null) return true;
    if (revokedBefore === null) return false;
    const revokedAtMs = Number(revokedBefore);
    const issuedAt = identity.issuedAt;
    if (issuedAt === undefined) return true;
    if ('ms' in issuedAt) return issuedAt.ms < revokedAtMs;
    // `iat` has whole seconds: one in the revocation's own second may postdate it, so it passes.
    return issuedAt.seconds < Math.floor(revokedAtMs / 1000);
  }

  /** Every token of the user issued until now stops working. */
  async revokeUserTokens(userId: string): Promise<void> {
    await this.redis.set(revokedBeforeKey(userId), Date.now(), 'EX', REVOCATION_TTL_SECONDS);
  }

  async denyToken(jti: string): Promise<void> {
    await this.redis.set(denyKey(jti), '1', 'EX', REVOCATION_TTL_SECONDS);
  }

  /** Constant-time comparison with ADMIN_TOKEN (digests, so lengths never leak). */
  isAdminToken(token: string): boolean {
    return timingSafeEqual(createHash('sha256').update(token).digest(), this.adminDigest);
  }
}
