import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { KAFKA, type BatchConsumer, type KafkaClient } from '@im/messaging';
import { NotifyOfflineUseCase } from './notify-offline.usecase';

/** Transport edge of message.offline: consumes its queue only when WEBHOOK_URL is set. */
@Injectable()
export class OfflineWebhookConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly consumer: BatchConsumer | undefined;
  private gauges: NodeJS.Timeout | undefined;

  constructor(
    @Inject(KAFKA) kafka: KafkaClient,
    private readonly notify: NotifyOfflineUseCase,
    config: AppConfig,
  ) {
    if (config.WEBHOOK_URL === undefined) return;
    this.consumer = kafka.consumer({
      service: 'delivery',
      topic: 'offline',
      handle: (batch) => notify.execute(batch),
    });
  }

  async onApplicationBootstrap() {
    if (!this.consumer) return;
    // The age of the oldest waiting notice grows between attempts: refresh it for scrapes.
    this.gauges = setInterval(() => this.notify.refreshGauges(), 1000).unref();
    await this.consumer.start();
  }

  async beforeApplicationShutdown() {
    if (!this.consumer) return;
    clearInterval(this.gauges);
    this.notify.stop();
    await this.consumer.stop();
  }
}
