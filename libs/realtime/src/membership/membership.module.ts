import { Module } from '@nestjs/common';
import { AppConfig, redisKeyPrefix, redisTarget } from '@im/config';
import { createRedis } from '../redis-client';
import { MembershipInvalidations, MEMBERSHIP_SUBSCRIBER } from './membership-invalidations';
import { MembershipMemo } from './membership-memo';
import { MembershipService } from './membership.service';

/** Membership with its in-process memo; the importing app must also import RedisModule. */
@Module({
  providers: [
    {
      provide: MembershipMemo,
      // Minutes of a large deployment's active conversations; a set is reloaded once a minute.
      useFactory: () => new MembershipMemo({ maxConversations: 50_000, ttlMs: 60_000 }),
    },
    {
      provide: MEMBERSHIP_SUBSCRIBER,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createRedis(redisTarget(config), redisKeyPrefix(config)),
    },
    MembershipInvalidations,
    MembershipService,
  ],
  exports: [MembershipService],
})
export class MembershipModule {}
