import type { AppConfig } from '@im/config';
import { TOPIC_NAMES, TopicName } from './events';
import { topicFor } from './kafka-client';

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  configs: { name: string; value: string }[];
}

/**
 * The project's topics as they are created. Every topic is partitioned by conversation id, so
 * one conversation is always handled by one consumer, in order.
 */
export function topicSpecs(config: AppConfig, names: readonly TopicName[] = TOPIC_NAMES): TopicSpec[] {
  return names.map((name) => ({
    topic: topicFor(config, name),
    partitions: config.KAFKA_PARTITIONS,
    replicationFactor: config.KAFKA_REPLICATION_FACTOR,
    configs: [
      { name: 'min.insync.replicas', value: String(config.KAFKA_MIN_INSYNC_REPLICAS) },
      { name: 'retention.ms', value: String(7 * 24 * 3600 * 1000) },
    ],
  }));
}
