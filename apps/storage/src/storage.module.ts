import { Module } from '@nestjs/common';
import { ConfigModule } from '@im/config';
import { DatabaseModule } from '@im/database';
import { HealthModule } from '@im/health';
import { KafkaModule } from '@im/messaging';
import { TracingModule } from '@im/tracing';
import { MessageStoreRepository } from './persistence/message-store.repository';
import { PersistBatchUseCase } from './persistence/persist-batch.usecase';
import { SequencedConsumer } from './persistence/sequenced.consumer';
import { RetentionModule } from './retention/retention.module';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    TracingModule.forService('storage'),
    KafkaModule.forService('storage'),
    HealthModule.checking('kafka', 'postgres'),
    RetentionModule,
  ],
  providers: [MessageStoreRepository, PersistBatchUseCase, SequencedConsumer],
})
export class StorageModule {}
