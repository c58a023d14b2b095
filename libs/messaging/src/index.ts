export * from './events';
export { createKafka, topicFor, groupFor } from './kafka-client';
export { ensureTopics } from './topic-admin';
export { BatchProducer } from './batch-producer';
export { BatchConsumer } from './batch-consumer';
export type { BatchOutcome, ConsumedBatch } from './batch-consumer';
export { KafkaModule, KAFKA, KafkaHealth, SERVICE_NAME, withTimeout } from './kafka.module';
export { isKafkaOutage, ProducerNotConnectedError } from './kafka-outage';
