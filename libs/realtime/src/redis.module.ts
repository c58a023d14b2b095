import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig, redisKeyPrefix } from '@im/config';
import { GatewayBus } from './gateway-bus';
import { PresenceStore } from './presence-store';
import { RedisLeases } from './redis-lease';

export const REDIS = Symbol('REDIS');

/**
 * A client whose every key (and, through GatewayBus, every channel) carries the deployment's
 * prefix, so deployments sharing a Redis never read each other's membership, presence or
 * pending re-pushes.
 */
export function createRedis(url: string, keyPrefix: string): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    // Off: a full chaos run with it on left a few connections' sends waiting forever after a
    // Redis restart (cause not pinned down); it bought ~10 %, inside the bench's noise.
    enableAutoPipelining: false,
    // Commands wait while Redis restarts instead of failing at once; callers time out themselves.
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    reconnectOnError: () => true,
  });
  reportOutages(redis);
  return redis;
}

/**
 * One warning when a connection to Redis fails and one line when it is back. Without an
 * 'error' listener ioredis prints "Unhandled error event" for every reconnect attempt (over a
 * thousand lines in a chaos run's logs); it reconnects either way.
 */
function reportOutages(redis: Redis): void {
  const logger = new Logger('redis');
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(`connection to Redis failed (reconnecting): ${error.message}`);
  });
  redis.on('ready', () => {
    if (down) logger.log('connection to Redis is back');
    down = false;
  });
}

@Injectable()
export class RedisHealth {
  constructor(private readonly config: AppConfig) {}
  private client?: Redis;
  async check(): Promise<void> {
    // A separate connection without an offline queue, so a dead Redis fails the check at once.
    if (!this.client) {
      this.client = new Redis(this.config.REDIS_URL, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        lazyConnect: false,
      });
      reportOutages(this.client);
    }
    const reply = await this.client.ping();
    if (reply !== 'PONG') throw new Error(`unexpected PING reply ${reply}`);
  }
  close() {
    this.client?.disconnect();
  }
}

@Injectable()
class RedisLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly health: RedisHealth,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}
  async onApplicationShutdown() {
    this.health.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createRedis(config.REDIS_URL, redisKeyPrefix(config)),
    },
    // The stores over the shared client, injected wherever they are used (never built in a class).
    { provide: PresenceStore, inject: [REDIS], useFactory: (redis: Redis) => new PresenceStore(redis) },
    { provide: GatewayBus, inject: [REDIS], useFactory: (redis: Redis) => new GatewayBus(redis) },
    {
      provide: RedisLeases,
      inject: [REDIS, AppConfig],
      useFactory: (redis: Redis, config: AppConfig) => new RedisLeases(redis, config.INSTANCE_ID),
    },
    RedisHealth,
    RedisLifecycle,
  ],
  exports: [REDIS, RedisHealth, PresenceStore, GatewayBus, RedisLeases],
})
export class RedisModule {}
