import { KafkaJSError, KafkaJSProtocolError } from 'kafkajs';
import {
  GenericError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
} from '@platformatic/kafka';
import { isKafkaOutage, ProducerNotConnectedError } from './kafka-outage';

const kafkajsProtocolError = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError(Object.assign(new Error(type), { type, code: 0, retriable }));

/**
 * Whether a failed Kafka call may pass when retried, for both clients. (apps/gateway's
 * failure-code.spec covers the common cases through failureCode; these are the rules behind them.)
 */
describe('isKafkaOutage', () => {
  it('calls a publish with no connected producer an outage', () => {
    expect(isKafkaOutage(new ProducerNotConnectedError())).toBe(true);
  });

  it('follows the retriable flag of a kafkajs protocol error, and takes any other kafkajs error for an outage', () => {
    expect(isKafkaOutage(kafkajsProtocolError('NOT_LEADER_FOR_PARTITION', true))).toBe(true);
    expect(isKafkaOutage(kafkajsProtocolError('MESSAGE_TOO_LARGE', false))).toBe(false);
    expect(isKafkaOutage(new KafkaJSError('Connection timeout'))).toBe(true);
  });

  it('takes a @platformatic/kafka network failure or timeout for an outage whatever its canRetry says', () => {
    expect(isKafkaOutage(new NetworkError('Connection closed', { canRetry: false }))).toBe(true);
    expect(isKafkaOutage(new TimeoutError('Request timed out'))).toBe(true);
  });

  it('follows canRetry of any other @platformatic/kafka error', () => {
    expect(isKafkaOutage(new ProtocolError('REQUEST_TIMED_OUT'))).toBe(true);
    expect(isKafkaOutage(new ProtocolError('TOPIC_AUTHORIZATION_FAILED'))).toBe(false);
    expect(isKafkaOutage(new GenericError('PLT_KFK_UNSUPPORTED', 'no canRetry at all'))).toBe(false);
  });

  it('looks through nested errors for a retriable one, ignoring the wrapper’s own flag and foreign errors', () => {
    const leaderMoved = new ResponseError(0, 9, { '/topics/0/partitions/0': [6, null] }, {});
    expect(isKafkaOutage(new MultipleErrors('Failed after 3 attempts', [leaderMoved]))).toBe(true);
    expect(
      isKafkaOutage(
        new MultipleErrors('Failed', [new ProtocolError('MESSAGE_TOO_LARGE')], { canRetry: true }),
      ),
    ).toBe(false);
    expect(isKafkaOutage(new MultipleErrors('Failed', [new Error('ECONNRESET')]))).toBe(false);
  });

  it.each([
    ['a plain error', new Error('Connection closed')],
    ['an object shaped like a retriable error', { retriable: true, canRetry: true }],
    ['nothing', undefined],
  ])('takes %s for no outage', (_, error) => {
    expect(isKafkaOutage(error)).toBe(false);
  });
});
