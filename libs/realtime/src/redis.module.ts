import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis, { Cluster } from 'ioredis';
import { AppConfig, redisKeyPrefix, redisTarget } from '@im/config';
import { clusterNodeAuth, createRedis, RedisClient, reportOutages } from './redis-client';
import { GatewayBus } from './gateway-bus';
import { PresenceStore } from './presence-store';
import { RedisLeases } from './redis-lease';

export const REDIS = Symbol('REDIS');

@Injectable()
export class RedisHealth {
  constructor(private readonly config: AppConfig) {}
  private client?: RedisClient;
  async check(): Promise<void> {
    // A separate connection without an offline queue, so a dead Redis fails the check at once.
    if (!this.client) {
      const target = redisTarget(this.config);
      this.client =
        target.kind === 'single'
          ? new Redis(target.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: false })
          : new Cluster(target.nodes, {
              enableOfflineQueue: false,
              redisOptions: { maxRetriesPerRequest: 0, ...clusterNodeAuth(target) },
            });
      reportOutages(this.client);
    }
    // On a cluster: some master answers (the stores' own calls show a slot that is down).
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
    @Inject(REDIS) private readonly redis: RedisClient,
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
      useFactory: (config: AppConfig) => createRedis(redisTarget(config), redisKeyPrefix(config)),
    },
    // The stores over the shared client, injected wherever they are used (never built in a class).
    { provide: PresenceStore, inject: [REDIS], useFactory: (redis: RedisClient) => new PresenceStore(redis) },
    { provide: GatewayBus, inject: [REDIS], useFactory: (redis: RedisClient) => new GatewayBus(redis) },
    {
      provide: RedisLeases,
      inject: [REDIS, AppConfig],
      useFactory: (redis: RedisClient, config: AppConfig) => new RedisLeases(redis, config.INSTANCE_ID),
    },
    RedisHealth,
    RedisLifecycle,
  ],
  exports: [REDIS, RedisHealth, PresenceStore, GatewayBus, RedisLeases],
})
export class RedisModule {}
