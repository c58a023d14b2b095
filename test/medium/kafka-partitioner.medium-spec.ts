import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { AppConfig } from '@im/config';
import {
  BatchProducer,
  createKafkaClient,
  topicFor,
  type InboundMessage,
  type KafkaClientName,
} from '@im/messaging';

/**
 * Instances on kafkajs and on @platformatic/kafka can share topics during an upgrade only if
 * both put a conversation on the same partition (one partition, one consumer, in order).
 */
describe('partitioning by both Kafka clients (real Kafka)', () => {
  const base = {
    KAFKA_TOPIC_PREFIX: `medium-partitions-${randomUUID().slice(0, 8)}`,
    KAFKA_PARTITIONS: 6,
  };
  const configOf = (client: KafkaClientName) =>
    Object.assign(new AppConfig(), { ...base, KAFKA_CLIENT: client });
  const clients = (['kafkajs', 'platformatic'] as const).map((name) => {
    const config = configOf(name);
    const kafka = createKafkaClient(config, 'medium');
    return { name, kafka, producer: new BatchProducer(kafka.recordSender(), config) };
  });
  const keys = Array.from({ length: 60 }, () => randomUUID());

  afterAll(async () => {
    for (const c of clients) await c.producer.disconnect().catch(() => undefined);
    const admin = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topicFor(configOf('kafkajs'), 'inbound')] }).catch(() => undefined);
    await admin.disconnect();
    for (const c of clients) await c.kafka.close();
  });

  it('puts every key on the same partition whichever client produced it', async () => {
    await clients[0].kafka.ensureTopics(['inbound']);
    for (const c of clients) {
      await c.producer.connect();
      await c.producer.publishAll(
        'inbound',
        keys.map((key) => ({ key, event: { clientMsgId: `${c.name}:${key}` } as unknown as InboundMessage })),
      );
    }
    const partitionOf = new Map<string, number>();
    const consumer = clients[1].kafka.consumer({
      service: 'medium',
      topic: 'inbound',
      handle: async ({ events, partition }) => {
        for (const e of events) partitionOf.set(e.clientMsgId, partition);
      },
    });
    await consumer.start();
    const deadline = Date.now() + 30_000;
    while (partitionOf.size < keys.length * 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    await consumer.stop();

    expect(partitionOf.size).toBe(keys.length * 2);
    expect(keys.map((k) => partitionOf.get(`platformatic:${k}`))).toEqual(
      keys.map((k) => partitionOf.get(`kafkajs:${k}`)),
    );
    // Spread over the partitions, not all on one (a partitioner returning 0 would also agree).
    expect(new Set(partitionOf.values()).size).toBe(6);
  });
});
