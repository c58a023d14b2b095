import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { execAll, REDIS } from '@im/realtime';
import { ClientConnection } from '../connections/client-connection';
import { AbuseMeter, TokenBucket, userRateKey } from './rate-limit';

const refused = metrics.counter(
  'im_gateway_rate_limited_total',
  'Messages refused by a rate limit, by scope',
);

export type RefusalVerdict = 'refused' | 'abusive';

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

  /** Whether one more message of this connection is within the limits (it takes a token). */
  async check(conn: ClientConnection, now = Date.now()): Promise<boolean> {
    let bucket = this.buckets.get(conn);
    if (!bucket) {
      const rate = this.config.RATE_LIMIT_CONNECTION_PER_SEC;
      bucket = new TokenBucket(rate, rate * 2, now);
      this.buckets.set(conn, bucket);
    }
    if (!bucket.take(now)) return this.over('connection');
    if (!(await this.userWithinLimit(conn.userId, now))) return this.over('user');
    return true;
  }

  /**
   * Counts a `rate_limited` answer (over the limit, or fenced behind one); `abusive` once there
   * were RATE_LIMIT_CLOSE_AFTER of them within 10 s, and the connection is to be closed (4429).
   */
  recordRefusal(conn: ClientConnection, now = Date.now()): RefusalVerdict {
    let meter = this.meters.get(conn);
    if (!meter) this.meters.set(conn, (meter = new AbuseMeter(this.config.RATE_LIMIT_CLOSE_AFTER)));
    return meter.record(now) ? 'abusive' : 'refused';
  }

  private async userWithinLimit(userId: string, now: number): Promise<boolean> {
    const key = userRateKey(userId, now);
    try {
      const [count] = await execAll(this.redis.pipeline().incr(key).expire(key, 2));
      return Number(count) <= this.config.RATE_LIMIT_USER_PER_SEC;
    } catch (error) {
      // Without Redis the per-connection limit still holds; do not refuse honest traffic.
      this.logger.warn(`user rate limit unavailable: ${String(error)}`);
      return true;
    }
  }

  private over(scope: string): false {
    refused.inc({ scope });
    return false;
  }
}
