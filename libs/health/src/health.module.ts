import { DynamicModule, Module } from '@nestjs/common';
import { KafkaHealth } from '@im/messaging';
import { DatabaseHealth } from '@im/database';
import { RedisHealth } from '@im/realtime';
import { DependencyCheck, HEALTH_CHECKS, HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';

/** What a service may depend on; readiness asks exactly those it names. */
export type Dependency = 'kafka' | 'postgres' | 'redis';

const HEALTH_OF = { kafka: KafkaHealth, postgres: DatabaseHealth, redis: RedisHealth } as const;

/**
 * /health/live, /health/ready and /metrics. Readiness calls only the dependencies the service
 * uses: storage, which never touches Redis, must not go unready while Redis is down. Import
 * after the modules of those dependencies.
 */
@Module({})
export class HealthModule {
  static checking(...dependencies: Dependency[]): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController, MetricsController],
      providers: [
        {
          provide: HEALTH_CHECKS,
          inject: dependencies.map((d) => HEALTH_OF[d]),
          useFactory: (...health: { check(): Promise<void> }[]): DependencyCheck[] =>
            dependencies.map((name, i) => ({ name, check: () => health[i].check() })),
        },
      ],
    };
  }
}
