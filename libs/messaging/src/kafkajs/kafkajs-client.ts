import { Admin, CompressionTypes, Kafka, logLevel, LogEntry, Partitioners, Producer } from 'kafkajs';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@im/config';
import type { TopicName } from '../events';
import type {
  BatchConsumer,
  BatchConsumerOptions,
  KafkaClient,
  OutgoingRecord,
  RecordSender,
} from '../kafka-client';
import { topicSpecs } from '../topic-admin';
import { KafkajsConsumer } from './kafkajs-consumer';

const levels: Record<number, 'error' | 'warn' | 'log' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'log',
  [logLevel.DEBUG]: 'debug',
};

/** One kafkajs client per process, logging through Nest's logger. */
export function createKafkajs(config: AppConfig, service: string): Kafka {
  const logger = new Logger('kafkajs');
  return new Kafka({
    clientId: `${service}-${config.INSTANCE_ID}`,
    brokers: config.KAFKA_BROKERS.split(','),
    connectionTimeout: 3000,
    requestTimeout: 30000,
    // Keep trying for about a minute: a broker restart must not kill the service. Steps of at
    // most 1 s, so requests go through within a second of the broker answering again.
    retry: { initialRetryTime: 200, maxRetryTime: 1000, retries: 60 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        // The coordinator-loading noise of a fresh broker is retried by kafkajs itself.
        if (
          level === logLevel.ERROR &&
          /coordinator (is loading|is not available)/i.test(String(extra.error))
        )
          return;
        logger[levels[level] ?? 'log'](`${message} ${JSON.stringify(extra)}`);
      },
  });
}

/** Idempotent, one request in flight, acks=all. */
class KafkajsSender implements RecordSender {
  private readonly producer: Producer;

  constructor(kafka: Kafka) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      // No retry limit: an idempotent producer must not give up mid-sequence (kafkajs warns otherwise).
      retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: Number.MAX_SAFE_INTEGER },
    });
  }

  connect = () => this.producer.connect();
  disconnect = () => this.producer.disconnect();

  async send(records: readonly OutgoingRecord[]): Promise<void> {
    const byTopic = new Map<string, { key: string; value: string; headers?: Record<string, string> }[]>();
    for (const r of records) {
      const list = byTopic.get(r.topic) ?? [];
      list.push({ key: r.key, value: r.value, headers: r.headers });
      byTopic.set(r.topic, list);
    }
    await this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }
}

/** kafkajs 2.2.4: the design card's client, kept as `KAFKA_CLIENT=kafkajs`. */
export class KafkajsClient implements KafkaClient {
  readonly name = 'kafkajs' as const;
  readonly kafka: Kafka;
  private healthAdmin?: Admin;

  constructor(
    private readonly config: AppConfig,
    service: string,
  ) {
    this.kafka = createKafkajs(config, service);
  }

  recordSender(): RecordSender {
    return new KafkajsSender(this.kafka);
  }

  consumer<T extends TopicName>(options: BatchConsumerOptions<T>): BatchConsumer {
    return new KafkajsConsumer(this.kafka, this.config, options);
  }

  async ensureTopics(names?: readonly TopicName[]): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topicSpecs(this.config, names).filter((t) => !existing.has(t.topic));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.partitions,
          replicationFactor: t.replicationFactor,
          configEntries: t.configs,
        })),
      });
    } finally {
      await admin.disconnect();
    }
  }

  async ping(): Promise<void> {
    if (!this.healthAdmin) {
      this.healthAdmin = this.kafka.admin({ retry: { retries: 0 } });
      await this.healthAdmin.connect();
    }
    await this.healthAdmin.describeCluster();
  }

  async close(): Promise<void> {
    await this.healthAdmin?.disconnect();
  }
}
