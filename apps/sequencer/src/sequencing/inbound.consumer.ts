import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { KAFKA, type BatchConsumer, type KafkaClient } from '@im/messaging';
import { SequenceBatchUseCase } from './sequence-batch.usecase';

/** Transport edge: the inbound topic into the sequencing use case. */
@Injectable()
export class InboundConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: BatchConsumer;

  constructor(@Inject(KAFKA) kafka: KafkaClient, useCase: SequenceBatchUseCase) {
    this.consumer = kafka.consumer({
      service: 'sequencer',
      topic: 'inbound',
      stage: 'sequence',
      handle: ({ events, isStale }) => useCase.execute(events, isStale),
      // Partitions may have moved: blocks held in memory are no longer ours to use.
      onRebalance: () => useCase.allocator.reset(),
    });
  }

  async onApplicationBootstrap() {
    await this.consumer.start();
  }

  async beforeApplicationShutdown() {
    await this.consumer.stop();
  }
}
