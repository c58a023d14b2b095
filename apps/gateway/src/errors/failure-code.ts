import { isDatabaseOutage } from '@im/database';
import { isKafkaOutage } from '@im/messaging';
import { ErrorCode, ProtocolError } from '@im/protocol';
import { isRedisOutage } from '@im/realtime';

/**
 * The `error` code a failure is answered with. An outage of Redis, PostgreSQL or Kafka (or a
 * timeout waiting for one) is `unavailable`, which a client retries; `internal` is left for
 * bugs (docs/protocol.md §4). Decided by error class, never by message text.
 */
export function failureCode(error: unknown): ErrorCode {
  if (error instanceof ProtocolError) return error.code;
  if (isRedisOutage(error) || isDatabaseOutage(error) || isKafkaOutage(error)) return 'unavailable';
  return 'internal';
}

/** The error to answer with: a ProtocolError as it is, anything else as its code. */
export function asProtocolError(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  return failureCode(error) === 'unavailable'
    ? new ProtocolError('unavailable', 'a service this request needs is unavailable; retry')
    : new ProtocolError('internal', 'the request failed');
}
