import { Module } from '@nestjs/common';
import { ConfigModule } from '@im/config';
import { DatabaseModule } from '@im/database';
import { HealthModule } from '@im/health';
import { KafkaModule } from '@im/messaging';
import { RedisModule } from '@im/realtime';
import { MessageStoreRepository } from './persistence/message-store.repository';
import { PersistBatchUseCase } from './persistence/persist-batch.usecase';
import { SequencedConsumer } from './persistence/sequenced.consumer';

@Module({
  imports: [ConfigModule, DatabaseModule, RedisModule, KafkaModule.forService('storage'), HealthModule],
  providers: [MessageStoreRepository, PersistBatchUseCase, SequencedConsumer],
})
export class StorageModule {}
