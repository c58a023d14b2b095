import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '@im/config';

export const REDIS = Symbol('REDIS');

export function createRedis(url: string, options: { pipelined?: boolean } = {}): Redis {
  return new Redis(url, {
    // Commands issued in the same tick (many connections' rate-limit and membership checks)
    // go out in one write. Not for a subscriber connection, which only listens.
    enableAutoPipelining: options.pipelined ?? false,
    // Commands wait while Redis restarts instead of failing at once; callers time out themselves.
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(50 * times, 1000),
    reconnectOnError: () => true,
  });
}

@Injectable()
export class RedisHealth {
  constructor(private readonly config: AppConfig) {}
  private client?: Redis;
  async check(): Promise<void> {
    // A separate connection without an offline queue, so a dead Redis fails the check at once.
    this.client ??= new Redis(this.config.REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: false,
    });
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
      useFactory: (config: AppConfig) => createRedis(config.REDIS_URL, { pipelined: true }),
    },
    RedisHealth,
    RedisLifecycle,
  ],
  exports: [REDIS, RedisHealth],
})
export class RedisModule {}
