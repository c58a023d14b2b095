import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { REDIS } from '@im/realtime';
import { ClientConnection } from '../connections/client-connection';
import { AbuseMeter, TokenBucket, userRateKey } from './rate-limit';

const refused = metrics.counter(
  'im_gateway_rate_limited_total',
  'Messages refused by a rate limit, by scope',
);

export type LimitVerdict = 'ok' | 'refused' | 'abusive';

/**
 * Message rate limits: per connection (in memory) and per user across every gateway (a
 * one-second window in Redis). Persistent abuse is reported so the connection is closed (4429).
 */
@Injectable()
export class MessageLimiter {
  private readonly logger = new Logger('limits');
  private readonly buckets = new WeakMap<ClientConnection, TokenBucket>();
  private readonly meters = new WeakMap<ClientConnection, AbuseMeter>();

  constructor(
    private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async check(conn: ClientConnection, now = Date.now()): Promise<LimitVerdict> {
    let bucket = this.buckets.get(conn);
    if (!bucket) {
      const rate = this.config.RATE_LIMIT_CONNECTION_PER_SEC;
      bucket = new TokenBucket(rate, rate * 2, now);
      this.buckets.set(conn, bucket);
    }
    if (!bucket.take(now)) return this.refuse(conn, now, 'connection');
    if (!(await this.userWithinLimit(conn.userId, now))) return this.refuse(conn, now, 'user');
    return 'ok';
  }

  private async userWithinLimit(userId: string, now: number): Promise<boolean> {
    const key = userRateKey(userId, now);
    try {
      const replies = await this.redis.pipeline().incr(key).expire(key, 2).exec();
      return Number(replies?.[0]?.[1] ?? 0) <= this.config.RATE_LIMIT_USER_PER_SEC;
    } catch (error) {
      // Without Redis the per-connection limit still holds; do not refuse honest traffic.
      this.logger.warn(`user rate limit unavailable: ${String(error)}`);
      return true;
    }
  }

  private refuse(conn: ClientConnection, now: number, scope: string): LimitVerdict {
    refused.inc({ scope });
    let meter = this.meters.get(conn);
    if (!meter) this.meters.set(conn, (meter = new AbuseMeter(this.config.RATE_LIMIT_CLOSE_AFTER)));
    return meter.record(now) ? 'abusive' : 'refused';
  }
}
