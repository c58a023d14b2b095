import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { AppConfig } from '@im/config';
import { BatchConsumer, KAFKA } from '@im/messaging';
import { SequenceBatchUseCase } from './sequence-batch.usecase';

/** Transport edge: the inbound topic into the sequencing use case. */
@Injectable()
export class InboundConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: BatchConsumer<'inbound'>;

  constructor(@Inject(KAFKA) kafka: Kafka, config: AppConfig, useCase: SequenceBatchUseCase) {
    this.consumer = new BatchConsumer(
      kafka,
      config,
      'sequencer',
      'inbound',
      async ({ events, isStale }) =>
        (await useCase.execute(events, isStale)) === 'abandoned' ? 'abandoned' : undefined,
      // Partitions may have moved: blocks held in memory are no longer ours to use.
      () => useCase.allocator.reset(),
    );
  }

  async onApplicationBootstrap() {
    await this.consumer.start();
  }

  async beforeApplicationShutdown() {
    await this.consumer.stop();
  }
}
