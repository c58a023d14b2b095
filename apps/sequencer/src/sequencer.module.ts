import { Module } from '@nestjs/common';
import { ConfigModule } from '@im/config';
import { DatabaseModule } from '@im/database';
import { HealthModule } from '@im/health';
import { KafkaModule } from '@im/messaging';
import { TracingModule } from '@im/tracing';
import { RedisModule } from '@im/realtime';
import { IdempotencyModule } from '@im/idempotency';
import { InboundConsumer } from './sequencing/inbound.consumer';
import { SeqBlockRepository } from './sequencing/seq-block.repository';
import { SequenceBatchUseCase } from './sequencing/sequence-batch.usecase';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule,
    RedisModule,
    TracingModule.forService('sequencer'),
    KafkaModule.forService('sequencer'),
    IdempotencyModule,
    HealthModule.checking('kafka', 'postgres', 'redis'),
  ],
  providers: [SeqBlockRepository, SequenceBatchUseCase, InboundConsumer],
})
export class SequencerModule {}
