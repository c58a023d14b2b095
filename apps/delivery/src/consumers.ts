import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { AppConfig } from '@im/config';
import { BatchConsumer, KAFKA } from '@im/messaging';
import { FanOutUseCase } from './fan-out/fan-out.usecase';
import { DeviceSignalsUseCase } from './signals/device-signals.usecase';

/** Transport edge: persisted messages to fan-out, device signals to cursors and receipts. */
@Injectable()
export class DeliveryConsumers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly persisted: BatchConsumer<'persisted'>;
  private readonly signals: BatchConsumer<'signals'>;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    config: AppConfig,
    fanOut: FanOutUseCase,
    signals: DeviceSignalsUseCase,
  ) {
    this.persisted = new BatchConsumer(kafka, config, 'delivery', 'persisted', ({ events }) =>
      fanOut.execute(events),
    );
    this.signals = new BatchConsumer(kafka, config, 'delivery', 'signals', ({ events, partition, lag }) =>
      signals.execute(events, { partition, lag }),
    );
  }

  async onApplicationBootstrap() {
    await Promise.all([this.persisted.start(), this.signals.start()]);
  }

  async beforeApplicationShutdown() {
    await Promise.all([this.persisted.stop(), this.signals.stop()]);
  }
}
