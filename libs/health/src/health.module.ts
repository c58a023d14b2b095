import { Module } from '@nestjs/common';
import { KafkaHealth } from '@im/messaging';
import { DatabaseHealth } from '@im/database';
import { RedisHealth } from '@im/realtime';
import { DependencyCheck, HEALTH_CHECKS, HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';

/**
 * /health/live, /health/ready and /metrics for a service using Kafka, PostgreSQL and Redis.
 * Import after KafkaModule, DatabaseModule and RedisModule.
 */
@Module({
  controllers: [HealthController, MetricsController],
  providers: [
    {
      provide: HEALTH_CHECKS,
      inject: [KafkaHealth, DatabaseHealth, RedisHealth],
      useFactory: (kafka: KafkaHealth, db: DatabaseHealth, redis: RedisHealth): DependencyCheck[] => [
        { name: 'kafka', check: () => kafka.check() },
        { name: 'postgres', check: () => db.check() },
        { name: 'redis', check: () => redis.check() },
      ],
    },
  ],
})
export class HealthModule {}
