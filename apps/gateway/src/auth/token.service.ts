import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';
import { AppConfig } from '@im/config';
import { ENTITY_ID_PATTERN } from '@im/protocol';

export interface UserIdentity {
  userId: string;
  /** Seconds since epoch. */
  expiresAt: number;
  jti?: string;
}

/** Verifies user JWTs (algorithm pinned, audience, issuer, expiry) and issues them for the admin API. */
@Injectable()
export class TokenService {
  private readonly verifyKey: string;
  private readonly adminDigest: Buffer;

  constructor(private readonly config: AppConfig) {
    this.verifyKey = config.JWT_ALGORITHM === 'HS256' ? config.JWT_SECRET! : config.JWT_PUBLIC_KEY!;
    this.adminDigest = createHash('sha256').update(config.ADMIN_TOKEN).digest();
  }

  /** The identity in a valid token, or null for anything else. */
  verify(token: string | undefined | null): UserIdentity | null {
    if (!token) return null;
    try {
      const claims = jwt.verify(token, this.verifyKey, {
        algorithms: [this.config.JWT_ALGORITHM],
        audience: this.config.JWT_AUDIENCE,
        issuer: this.config.JWT_ISSUER,
      });
      if (typeof claims !== 'object' || typeof claims.sub !== 'string' || !ENTITY_ID_PATTERN.test(claims.sub))
        return null;
      if (typeof claims.exp !== 'number') return null;
      return { userId: claims.sub, expiresAt: claims.exp, jti: claims.jti };
    } catch {
      return null;
    }
  }

  issue(
    userId: string,
    ttlSeconds = this.config.JWT_DEFAULT_TTL_SECONDS,
  ): { token: string; expiresAt: string } {
    const key = this.config.JWT_ALGORITHM === 'HS256' ? this.config.JWT_SECRET : this.config.JWT_PRIVATE_KEY;
    if (!key) throw new Error('JWT_PRIVATE_KEY is needed to issue tokens with ' + this.config.JWT_ALGORITHM);
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.sign({ sub: userId, iat: now, exp: now + ttlSeconds, jti: randomUUID() }, key, {
      algorithm: this.config.JWT_ALGORITHM,
      audience: this.config.JWT_AUDIENCE,
      issuer: this.config.JWT_ISSUER,
    });
    return { token, expiresAt: new Date((now + ttlSeconds) * 1000).toISOString() };
  }

  /** Constant-time comparison with ADMIN_TOKEN (digests, so lengths never leak). */
  isAdminToken(token: string): boolean {
    return timingSafeEqual(createHash('sha256').update(token).digest(), this.adminDigest);
  }
}
