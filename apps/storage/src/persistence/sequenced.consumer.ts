import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { KAFKA, type BatchConsumer, type KafkaClient } from '@im/messaging';
import { PersistBatchUseCase } from './persist-batch.usecase';

/** Transport edge: the sequenced topic into PostgreSQL. */
@Injectable()
export class SequencedConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: BatchConsumer;

  constructor(@Inject(KAFKA) kafka: KafkaClient, useCase: PersistBatchUseCase) {
    this.consumer = kafka.consumer({
      service: 'storage',
      topic: 'sequenced',
      stage: 'store',
      handle: ({ events }) => useCase.execute(events),
    });
  }

  async onApplicationBootstrap() {
    await this.consumer.start();
  }

  async beforeApplicationShutdown() {
    await this.consumer.stop();
  }
}
