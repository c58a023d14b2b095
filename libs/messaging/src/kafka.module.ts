import { Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { Kafka } from 'kafkajs';
import { AppConfig } from '@im/config';
import { createKafka } from './kafka-client';
import { ensureTopics } from './topic-admin';
import { BatchProducer } from './batch-producer';

export const KAFKA = Symbol('KAFKA');
export const SERVICE_NAME = Symbol('SERVICE_NAME');

/** Pings the broker for readiness: metadata of the cluster must come back. */
@Injectable()
export class KafkaHealth {
  constructor(@Inject(KAFKA) private readonly kafka: Kafka) {}
  private admin?: ReturnType<Kafka['admin']>;

  async check(): Promise<void> {
    if (!this.admin) {
      this.admin = this.kafka.admin({ retry: { retries: 0 } });
      await this.admin.connect();
    }
    await withTimeout(this.admin.describeCluster(), 2000);
  }

  async close(): Promise<void> {
    await this.admin?.disconnect();
  }
}

@Injectable()
class KafkaLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly config: AppConfig,
    private readonly producer: BatchProducer,
    private readonly health: KafkaHealth,
  ) {}

  /** Retries for a while: replicas start together, and the broker may still be starting. */
  async onModuleInit() {
    const deadline = Date.now() + 120_000;
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureTopics(this.kafka, this.config);
        await this.producer.connect();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        new Logger('kafka').warn(`Kafka not ready (attempt ${attempt}): ${String(error)}; retrying`);
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)));
      }
    }
  }

  // Runs after consumers stopped (they stop in beforeApplicationShutdown), so the
  // producer can still publish what they finished.
  async onApplicationShutdown() {
    await this.producer.disconnect();
    await this.health.close();
  }
}

export const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });

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
          useFactory: (config: AppConfig) => createKafka(config, service),
          inject: [AppConfig],
        },
        {
          provide: BatchProducer,
          useFactory: (kafka: Kafka, config: AppConfig) => new BatchProducer(kafka, config),
          inject: [KAFKA, AppConfig],
        },
        KafkaHealth,
        KafkaLifecycle,
      ],
      exports: [KAFKA, BatchProducer, KafkaHealth, SERVICE_NAME],
    };
  }
}
