import MaxRetriesPerRequestError from 'ioredis/built/errors/MaxRetriesPerRequestError';
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import {
  MultipleErrors,
  NetworkError,
  ProtocolError as KafkaProtocolError,
  TimeoutError,
  UserError,
} from '@platformatic/kafka';
import { DatabaseError } from 'pg';
import { AbortError, ReplyError } from 'redis-errors';
import { QueryFailedError } from 'typeorm';
import { DatabaseUnavailableError } from '@im/database';
import { ProducerNotConnectedError } from '@im/messaging';
import { ProtocolError } from '@im/protocol';
import { failureCode } from './failure-code';

const pgError = (code: string) => Object.assign(new DatabaseError('server said no', 0, 'error'), { code });
const failedQuery = (driverError: Error) => new QueryFailedError('SELECT 1', [], driverError);

/** docs/protocol.md §4: an outage of Kafka, PostgreSQL or Redis is `unavailable`; `internal` is for bugs. */
describe('failureCode', () => {
  it('keeps the code of a ProtocolError', () => {
    expect(failureCode(new ProtocolError('forbidden', 'no'))).toBe('forbidden');
  });

  it.each([
    ['a Redis command given up during a restart', new MaxRetriesPerRequestError(3)],
    [
      'a Redis command aborted with its connection',
      new AbortError('Command aborted due to connection close'),
    ],
    ['Redis loading its data set', new ReplyError('LOADING Redis is loading the dataset in memory')],
    ['a connection PostgreSQL refused', new DatabaseUnavailableError(new Error('connect ECONNREFUSED'))],
    ['a statement of a PostgreSQL shutting down', failedQuery(pgError('57P01'))],
    ['a PostgreSQL still starting', pgError('57P03')],
    [
      'a statement that died with its connection',
      failedQuery(new Error('Connection terminated unexpectedly')),
    ],
    ['a serialization conflict', failedQuery(pgError('40001'))],
    ['a Kafka broker out of reach', new KafkaJSConnectionError('Connection error')],
    [
      'Kafka retries exhausted',
      new KafkaJSNumberOfRetriesExceeded(new Error('x'), { retryCount: 5, retryTime: 1 }),
    ],
    ['a producer not connected', new ProducerNotConnectedError()],
    ['a broker out of reach (@platformatic/kafka)', new NetworkError('Connection closed')],
    ['a request timed out (@platformatic/kafka)', new TimeoutError('Request timed out')],
    ['a leader moving (@platformatic/kafka)', new KafkaProtocolError('NOT_LEADER_OR_FOLLOWER')],
    [
      'retries exhausted (@platformatic/kafka)',
      new MultipleErrors('Failed after 15 attempts', [new NetworkError('a'), new NetworkError('b')]),
    ],
  ])('answers %s with unavailable', (_, error) => {
    expect(failureCode(error)).toBe('unavailable');
  });

  it.each([
    [
      'a Redis reply about a wrong type',
      new ReplyError('WRONGTYPE Operation against a key holding the wrong kind of value'),
    ],
    ['a constraint PostgreSQL enforced', failedQuery(pgError('23505'))],
    ['an SQL syntax error', failedQuery(pgError('42601'))],
    ['a parameter pg could not serialize', failedQuery(new TypeError('bad parameter'))],
    [
      'a non-retriable Kafka error',
      new KafkaJSProtocolError(
        Object.assign(new Error('too large'), { type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false }),
      ),
    ],
    ['a record too large (@platformatic/kafka)', new KafkaProtocolError('MESSAGE_TOO_LARGE')],
    [
      'retries exhausted on a non-retriable error (@platformatic/kafka)',
      new MultipleErrors('Failed', [new KafkaProtocolError('TOPIC_AUTHORIZATION_FAILED')]),
    ],
    ['an option we got wrong (@platformatic/kafka)', new UserError('bad option')],
    ['a bug of ours', new TypeError("Cannot read properties of undefined (reading 'seq')")],
    ['a plain error', new Error('timeout')],
  ])('answers %s with internal', (_, error) => {
    expect(failureCode(error)).toBe('internal');
  });
});
