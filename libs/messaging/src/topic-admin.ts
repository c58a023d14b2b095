import { Kafka } from 'kafkajs';
import { AppConfig } from '@im/config';
import { TOPIC_NAMES, TopicName } from './events';
import { topicFor } from './kafka-client';

/**
 * Creates the project's topics if they are missing. Every topic is partitioned by
 * conversation id, so one conversation is always handled by one consumer, in order.
 */
export async function ensureTopics(
  kafka: Kafka,
  config: AppConfig,
  names: readonly TopicName[] = TOPIC_NAMES,
) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = names.map((n) => topicFor(config, n)).filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: config.KAFKA_PARTITIONS,
        replicationFactor: config.KAFKA_REPLICATION_FACTOR,
        configEntries: [
          { name: 'min.insync.replicas', value: String(config.KAFKA_MIN_INSYNC_REPLICAS) },
          { name: 'retention.ms', value: String(7 * 24 * 3600 * 1000) },
        ],
      })),
    });
  } finally {
    await admin.disconnect();
  }
}
