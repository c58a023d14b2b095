import type { AppConfig } from '@im/config';
import type { TopicEvents, TopicName } from './events';

export const topicFor = (config: AppConfig, topic: TopicName) => `${config.KAFKA_TOPIC_PREFIX}.${topic}`;
export const groupFor = (config: AppConfig, service: string) => `${config.KAFKA_TOPIC_PREFIX}.${service}`;

export interface ConsumedBatch<T extends TopicName> {
  partition: number;
  events: TopicEvents[T][];
  /** True once a rebalance gave this partition to another consumer: stop before side effects. */
  isStale: () => boolean;
  /** Messages of the partition known to be behind this batch (fetched or reported by the broker). */
  lag: number;
}

/**
 * What a handler's batch came to: nothing (its output is durable), 'abandoned' (left
 * uncommitted for the partition's new owner), or `{ durable }`: its output is queued, in order,
 * and durable once the promise resolves. The consumer then hands the partition's next batch at
 * once and commits this one only when `durable` resolved (pipelined hops); a rejection makes
 * it consume again from the last commit, since the handler already moved on.
 */
export type BatchOutcome = void | 'abandoned' | { durable: Promise<void> };

export interface BatchConsumerOptions<T extends TopicName> {
  /** The consuming service: with the topic, it names the consumer group. */
  service: string;
  topic: T;
  /** Resolves once the batch's output is durable or queued (see BatchOutcome); throwing hands the same batch again. */
  handle: (batch: ConsumedBatch<T>) => Promise<BatchOutcome>;
  /** Partitions moved: state held per partition is no longer to be trusted. */
  onRebalance?: () => void;
  /** The stage each event's span is named after when tracing is on (README, Tracing). */
  stage?: string;
}

/**
 * Consumes one topic in batches, one batch at a time per partition, and commits a batch's
 * offsets only after its handler resolved (see libs/messaging/README.md).
 */
export interface BatchConsumer {
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): boolean;
}

export interface OutgoingRecord {
  topic: string;
  key: string;
  value: string;
  /** W3C `traceparent` of a traced event. */
  headers?: Record<string, string>;
}

/** Sends one request of records with acks=all, idempotently; rejects if any record failed. */
export interface RecordSender {
  connect(): Promise<void>;
  send(records: readonly OutgoingRecord[]): Promise<void>;
  disconnect(): Promise<void>;
}

export type KafkaClientName = 'kafkajs' | 'platformatic';

/** What the services need of a Kafka client; one implementation per client library. */
export interface KafkaClient {
  readonly name: KafkaClientName;
  recordSender(): RecordSender;
  consumer<T extends TopicName>(options: BatchConsumerOptions<T>): BatchConsumer;
  /** Creates the project's topics that are missing. */
  ensureTopics(names?: readonly TopicName[]): Promise<void>;
  /** Readiness: the cluster's metadata comes back. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
