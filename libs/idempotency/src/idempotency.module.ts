import { Module } from '@nestjs/common';
import { REDIS, type RedisClient } from '@im/realtime';
import { IdempotencyGuard } from './idempotency-guard';

/** The guard over the service's shared Redis client (RedisModule must be imported too). */
@Module({
  providers: [
    {
      provide: IdempotencyGuard,
      inject: [REDIS],
      useFactory: (redis: RedisClient) => new IdempotencyGuard(redis),
    },
  ],
  exports: [IdempotencyGuard],
})
export class IdempotencyModule {}
