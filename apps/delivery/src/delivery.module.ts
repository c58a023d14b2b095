import { Module } from '@nestjs/common';
import { ConfigModule } from '@im/config';
import { DatabaseModule } from '@im/database';
import { HealthModule } from '@im/health';
import { KafkaModule } from '@im/messaging';
import { MembershipService, RedisModule } from '@im/realtime';
import { CatchUpWorker } from './catch-up/catch-up.worker';
import { DeliveryConsumers } from './consumers';
import { DeviceRouter } from './fan-out/device-router';
import { FanOutUseCase } from './fan-out/fan-out.usecase';
import { PendingPushStore } from './repush/pending-push.store';
import { RepushWorker } from './repush/repush.worker';
import { DeviceSignalsUseCase } from './signals/device-signals.usecase';
import { SignalBacklog } from './signals/signal-backlog';

@Module({
  imports: [ConfigModule, DatabaseModule, RedisModule, KafkaModule.forService('delivery'), HealthModule],
  providers: [
    MembershipService,
    DeviceRouter,
    PendingPushStore,
    FanOutUseCase,
    DeviceSignalsUseCase,
    SignalBacklog,
    RepushWorker,
    CatchUpWorker,
    DeliveryConsumers,
  ],
})
export class DeliveryModule {}
