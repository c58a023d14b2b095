import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { KAFKA, type BatchConsumer, type KafkaClient } from '@im/messaging';
import { FanOutUseCase } from './fan-out/fan-out.usecase';
import { DeviceSignalsUseCase } from './signals/device-signals.usecase';

/** Transport edge: persisted messages to fan-out, device signals to cursors and receipts. */
@Injectable()
export class DeliveryConsumers implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly persisted: BatchConsumer;
  private readonly signals: BatchConsumer;

  constructor(@Inject(KAFKA) kafka: KafkaClient, fanOut: FanOutUseCase, signals: DeviceSignalsUseCase) {
    this.persisted = kafka.consumer({
      service: 'delivery',
      topic: 'persisted',
      stage: 'fan-out',
      handle: ({ events }) => fanOut.execute(events),
    });
    this.signals = kafka.consumer({
      service: 'delivery',
      topic: 'signals',
      handle: ({ events, partition, lag }) => signals.execute(events, { partition, lag }),
    });
  }

  async onApplicationBootstrap() {
    await Promise.all([this.persisted.start(), this.signals.start()]);
  }

  async beforeApplicationShutdown() {
    await Promise.all([this.persisted.stop(), this.signals.stop()]);
  }
}
