import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { AppConfig } from '@im/config';
import { BatchConsumer, KAFKA } from '@im/messaging';
import { PersistBatchUseCase } from './persist-batch.usecase';

/** Transport edge: the sequenced topic into PostgreSQL. */
@Injectable()
export class SequencedConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: BatchConsumer<'sequenced'>;

  constructor(@Inject(KAFKA) kafka: Kafka, config: AppConfig, useCase: PersistBatchUseCase) {
    this.consumer = new BatchConsumer(kafka, config, 'storage', 'sequenced', ({ events }) =>
      useCase.execute(events),
    );
  }

  async onApplicationBootstrap() {
    await this.consumer.start();
  }

  async beforeApplicationShutdown() {
    await this.consumer.stop();
  }
}
