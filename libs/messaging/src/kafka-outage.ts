import { KafkaJSError, KafkaJSProtocolError } from 'kafkajs';
import { GenericError, MultipleErrors, NetworkError, TimeoutError } from '@platformatic/kafka';

/** A publish before the producer connected, or after it disconnected for shutdown. */
export class ProducerNotConnectedError extends Error {
  constructor() {
    super('the Kafka producer is not connected');
  }
}

/** A produce request that got no answer at all in time (BatchProducer.sendWithin). */
export class ProducerStalledError extends Error {
  constructor(readonly afterMs: number) {
    super(`the Kafka producer got no answer in ${afterMs} ms`);
  }
}

/**
 * @platformatic/kafka: a network failure or timeout, or a protocol error the broker marks
 * retriable, anywhere in the error's tree (exhausted retries arrive as MultipleErrors).
 */
function platformaticRetriable(error: GenericError | MultipleErrors): boolean {
  if (error instanceof NetworkError || error instanceof TimeoutError) return true;
  if (error instanceof MultipleErrors)
    return error.errors.some(
      (e) => e instanceof Error && GenericError.isGenericError(e) && platformaticRetriable(e),
    );
  return error.canRetry === true;
}

/**
 * Whether a failed Kafka call may pass when retried: anything a client raises about brokers,
 * connections, timeouts or exhausted retries is; an error the broker marks non-retriable (a
 * record too large, a topic we may not write) is a bug or a misconfiguration.
 */
export function isKafkaOutage(error: unknown): boolean {
  if (error instanceof ProducerNotConnectedError || error instanceof ProducerStalledError) return true;
  if (error instanceof KafkaJSProtocolError) return error.retriable;
  if (error instanceof KafkaJSError) return true;
  if (error instanceof Error && GenericError.isGenericError(error)) return platformaticRetriable(error);
  return false;
}
