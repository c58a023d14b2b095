export * from './events';
export { topicFor, groupFor } from './kafka-client';
export type {
  BatchConsumer,
  BatchConsumerOptions,
  BatchOutcome,
  ConsumedBatch,
  KafkaClient,
  KafkaClientName,
} from './kafka-client';
export { createKafkaClient } from './create-kafka-client';
export { tracedHandle, withTracing } from './traced-kafka-client';
export { BatchProducer } from './batch-producer';
export { KafkaModule, KAFKA, KafkaHealth, SERVICE_NAME } from './kafka.module';
export { withTimeout } from './with-timeout';
export { isKafkaOutage, ProducerNotConnectedError, ProducerStalledError } from './kafka-outage';
