import { Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { Tracer } from '@im/tracing';
import { BatchProducer } from './batch-producer';
import { createKafkaClient } from './create-kafka-client';
import type { KafkaClient } from './kafka-client';
import { retryUntil } from './retry-until';
import { withTracing } from './traced-kafka-client';
import { withTimeout } from './with-timeout';

export const KAFKA = Symbol('KAFKA');
export const SERVICE_NAME = Symbol('SERVICE_NAME');

/** Pings the broker for readiness: metadata of the cluster must come back. */
@Injectable()
export class KafkaHealth {
  constructor(@Inject(KAFKA) private readonly kafka: KafkaClient) {}

  async check(): Promise<void> {
    await withTimeout(this.kafka.ping(), 2000);
  }
}

@Injectable()
class KafkaLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(KAFKA) private readonly kafka: KafkaClient,
    private readonly producer: BatchProducer,
  ) {}

  /** Retries for a while: replicas start together, and the broker may still be starting. */
  async onModuleInit() {
    await retryUntil(
      Date.now() + 120_000,
      async () => {
        await this.kafka.ensureTopics();
        await this.producer.connect();
      },
      (error, attempt) =>
        new Logger('kafka').warn(`Kafka not ready (attempt ${attempt}): ${String(error)}; retrying`),
    );
  }

  // Runs after consumers stopped (they stop in beforeApplicationShutdown), so the
  // producer can still publish what they finished.
  async onApplicationShutdown() {
    await this.producer.disconnect();
    await this.kafka.close();
  }
}

@Module({})
export class KafkaModule {
  static forService(service: string) {
    return {
      module: KafkaModule,
      global: true,
      providers: [
        { provide: SERVICE_NAME, useValue: service },
        {
          provide: KAFKA,
          // With TracingModule imported (and an OTLP endpoint set), the consumers' stages are traced.
          useFactory: (config: AppConfig, tracer?: Tracer) =>
            withTracing(createKafkaClient(config, service), tracer),
          inject: [AppConfig, { token: Tracer, optional: true }],
        },
        {
          provide: BatchProducer,
          useFactory: (kafka: KafkaClient, config: AppConfig) =>
            new BatchProducer(kafka.recordSender(), config, { replaceSender: () => kafka.recordSender() }),
          inject: [KAFKA, AppConfig],
        },
        KafkaHealth,
        KafkaLifecycle,
      ],
      exports: [KAFKA, BatchProducer, KafkaHealth, SERVICE_NAME],
    };
  }
}
