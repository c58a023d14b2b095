import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { batchOf, execAll, REDIS, type RedisClient } from '@im/realtime';
import { ClientConnection } from '../connections/client-connection';
import { AbuseMeter, TokenBucket, userRateKey } from './rate-limit';
import { UserRateLedger } from './user-rate-ledger';

/** How often this gateway's per-user counts are added to Redis and the others' read back. */
const FLUSH_MS = 100;

const refused = metrics.counter(
  'im_gateway_rate_limited_total',
  'Messages refused by a rate limit, by scope',
);

export type RefusalVerdict = 'refused' | 'abusive';

/**
 * Message rate limits: per connection (in memory) and per user across every gateway (a
 * one-second window, decided in memory and reconciled through Redis off the send path; see
 * UserRateLedger). Persistent abuse is reported so the connection is closed (4429).
 */
@Injectable()
export class MessageLimiter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('limits');
  private readonly buckets = new WeakMap<ClientConnection, TokenBucket>();
  private readonly meters = new WeakMap<ClientConnection, AbuseMeter>();

  private readonly users: UserRateLedger;
  private flusher?: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {
    this.users = new UserRateLedger(config.RATE_LIMIT_USER_PER_SEC);
  }

  onApplicationBootstrap(): void {
    this.flusher = setInterval(() => void this.flush(), FLUSH_MS);
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.flusher);
  }

  /** Whether one more message of this connection is within the limits (it takes a token). */
  check(conn: ClientConnection, now = Date.now()): boolean {
    let bucket = this.buckets.get(conn);
    if (!bucket) {
      const rate = this.config.RATE_LIMIT_CONNECTION_PER_SEC;
      bucket = new TokenBucket(rate, rate * 2, now);
      this.buckets.set(conn, bucket);
    }
    if (!bucket.take(now)) return this.over('connection');
    if (!this.users.take(conn.userId, now)) return this.over('user');
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

  /** Adds this gateway's new counts to Redis and learns the windows' totals, in one round trip. */
  async flush(now = Date.now()): Promise<void> {
    const { window, counts } = this.users.drain(now);
    if (counts.length === 0) return;
    const pipeline = batchOf(this.redis);
    for (const c of counts) {
      const key = userRateKey(c.userId, window * 1000);
      pipeline.incrby(key, c.count).expire(key, 2);
    }
    try {
      const replies = await execAll(pipeline);
      counts.forEach((c, i) => this.users.reconcile(window, c.userId, Number(replies[i * 2])));
    } catch (error) {
      // Without Redis each gateway still holds its own share of the limit; honest traffic passes.
      this.logger.warn(`user rate limit not shared: ${String(error)}`);
    }
  }

  private over(scope: string): false {
    refused.inc({ scope });
    return false;
  }
}
