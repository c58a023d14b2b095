import { Module } from '@nestjs/common';
import { ConfigModule } from '@im/config';
import { DatabaseModule } from '@im/database';
import { HealthModule } from '@im/health';
import { KafkaModule } from '@im/messaging';
import { TracingModule } from '@im/tracing';
import { MembershipModule, RedisModule } from '@im/realtime';
import { WebhooksModule } from '@im/webhooks';
import { CatchUpWorker } from './catch-up/catch-up.worker';
import { DeliveryConsumers } from './consumers';
import { DeviceRouter } from './fan-out/device-router';
import { FanOutUseCase } from './fan-out/fan-out.usecase';
import { DeliveredCursorStore } from './repush/delivered-cursor.store';
import { PendingPushes } from './repush/pending-pushes';
import { RepushRoundUseCase } from './repush/repush-round.usecase';
import { RepushWorker } from './repush/repush.worker';
import { DeviceSignalsUseCase } from './signals/device-signals.usecase';
import { SignalBacklog } from './signals/signal-backlog';
import { NotifyOfflineUseCase } from './webhooks/notify-offline.usecase';
import { OfflineWebhookConsumer } from './webhooks/offline-webhook.consumer';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    MembershipModule,
    WebhooksModule,
    TracingModule.forService('delivery'),
    KafkaModule.forService('delivery'),
    HealthModule.checking('kafka', 'postgres', 'redis'),
  ],
  providers: [
    DeviceRouter,
    PendingPushes,
    DeliveredCursorStore,
    FanOutUseCase,
    DeviceSignalsUseCase,
    SignalBacklog,
    RepushWorker,
    RepushRoundUseCase,
    CatchUpWorker,
    DeliveryConsumers,
    NotifyOfflineUseCase,
    OfflineWebhookConsumer,
  ],
})
export class DeliveryModule {}
