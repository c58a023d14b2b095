import { KafkaJSError, KafkaJSProtocolError } from 'kafkajs';

/** A publish before the producer connected, or after it disconnected for shutdown. */
export class ProducerNotConnectedError extends Error {
  constructor() {
    super('the Kafka producer is not connected');
  }
}

/**
 * Whether a failed Kafka call may pass when retried: anything kafkajs raises about brokers,
 * connections, timeouts or exhausted retries is; an error the broker marks non-retriable (a
 * record too large, a topic we may not write) is a bug or a misconfiguration.
 */
export function isKafkaOutage(error: unknown): boolean {
  if (error instanceof ProducerNotConnectedError) return true;
  if (error instanceof KafkaJSProtocolError) return error.retriable;
  return error instanceof KafkaJSError;
}
