import {
  Admin,
  compatibilityPartitioner,
  Consumer,
  findErrorBy,
  Producer,
  ProduceAcks,
  stringSerializers,
} from '@platformatic/kafka';
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
import { PlatformaticConsumer } from './platformatic-consumer';
import { type PlatformaticConnection, platformaticConnection, retryDelay } from './platformatic-connection';

/**
 * Idempotent, acks=all. The partitioner is murmur2 masked as kafkajs's is, so a conversation
 * maps to the same partition whichever client produced it.
 */
class PlatformaticSender implements RecordSender {
  private readonly producer: Producer<string, string, string, string>;

  constructor(connection: PlatformaticConnection) {
    // Connects on first use; one producer however often connect() is tried.
    this.producer = new Producer<string, string, string, string>({
      ...connection,
      serializers: stringSerializers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      partitioner: compatibilityPartitioner,
      // About a minute of steps of at most 1 s, as the kafkajs producer kept trying: a broker
      // restart (12–14 s after a kill -9 here) passes inside them, so a send waits and is acked
      // instead of being refused and resent on the client's backoff. With 15 (about 10 s) the
      // chaos suite had one send wait 89 s for its ack.
      retries: 60,
      retryDelay,
    });
  }

  /** Fails now, not at the first send, when the brokers cannot be reached. */
  async connect(): Promise<void> {
    await this.producer.metadata({ topics: [] });
  }

  async send(records: readonly OutgoingRecord[]): Promise<void> {
    await this.producer.send({
      messages: records.map((r) => ({ topic: r.topic, key: r.key, value: r.value, headers: r.headers })),
    });
  }

  async disconnect(): Promise<void> {
    await this.producer.close();
  }
}

/** @platformatic/kafka: KIP-848 groups (or classic ones), pure JavaScript. */
export class PlatformaticClient implements KafkaClient {
  readonly name = 'platformatic' as const;
  private readonly connection: PlatformaticConnection;
  private admin?: Admin;

  constructor(
    private readonly config: AppConfig,
    service: string,
  ) {
    this.connection = platformaticConnection(config, service);
  }

  private adminClient(): Admin {
    this.admin ??= new Admin({ ...this.connection, retries: 0 });
    return this.admin;
  }

  recordSender(): RecordSender {
    return new PlatformaticSender(this.connection);
  }

  consumer<T extends TopicName>(options: BatchConsumerOptions<T>): BatchConsumer {
    return new PlatformaticConsumer(this.connection, this.config, options, (o) => new Consumer(o));
  }

  async ensureTopics(names?: readonly TopicName[]): Promise<void> {
    const admin = new Admin({ ...this.connection, retries: 5, retryDelay });
    try {
      const existing = new Set(await admin.listTopics());
      const missing = topicSpecs(this.config, names).filter((t) => !existing.has(t.topic));
      for (const t of missing)
        await admin
          .createTopics({
            topics: [t.topic],
            partitions: t.partitions,
            replicas: t.replicationFactor,
            configs: t.configs,
          })
          // Another service created it meanwhile (every instance creates what it misses at start).
          .catch((error: unknown) => {
            if (!(error instanceof Error && findErrorBy(error, 'apiId', 'TOPIC_ALREADY_EXISTS'))) throw error;
          });
    } finally {
      await admin.close();
    }
  }

  async ping(): Promise<void> {
    await this.adminClient().metadata({ topics: [], forceUpdate: true });
  }

  async close(): Promise<void> {
    await this.admin?.close();
  }
}
