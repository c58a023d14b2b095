import MaxRetriesPerRequestError from 'ioredis/built/errors/MaxRetriesPerRequestError';
import { AbortError, InterruptError, ReplyError } from 'redis-errors';
import { RedisClusterUnreachableError } from './redis-client';
import { isRedisOutage } from './redis-outage';

/** Whether a failed Redis call may pass later: decided by error class and, for replies, by the reply's code. */
describe('isRedisOutage', () => {
  it.each([
    'LOADING Redis is loading the dataset in memory',
    'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.',
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    'TRYAGAIN Multiple keys request during rehashing of slot',
    'CLUSTERDOWN The cluster is down',
    "READONLY You can't write against a read only replica.",
  ])('takes the reply "%s" for Redis saying "not now"', (message) => {
    expect(isRedisOutage(new ReplyError(message))).toBe(true);
  });

  it.each([
    'BUSYKEY Target key name already exists.',
    'ERR LOADING is not a command',
    'NOSCRIPT No matching script. Please use EVAL.',
    'loading Redis is loading the dataset in memory',
  ])('reads the code from the first word only, in capitals: "%s" is Redis answering', (message) => {
    expect(isRedisOutage(new ReplyError(message))).toBe(false);
  });

  it.each([
    ['a command aborted with its connection', new AbortError('Command aborted due to connection close')],
    ['a command interrupted', new InterruptError('interrupted')],
    ['a command given up after its retries', new MaxRetriesPerRequestError(3)],
    [
      'a cluster command whose redirections ran out in a failover',
      new RedisClusterUnreachableError(new Error('Too many Cluster redirections')),
    ],
  ])('takes %s (no reply from Redis) for an outage', (_, error) => {
    expect(isRedisOutage(error)).toBe(true);
  });

  it.each([
    [
      'an error that only reads like a Redis reply',
      new Error('LOADING Redis is loading the dataset in memory'),
    ],
    ['a bug of ours', new TypeError('x is undefined')],
    ['a thrown string', 'LOADING'],
    ['nothing', undefined],
  ])('takes %s for no outage', (_, error) => {
    expect(isRedisOutage(error)).toBe(false);
  });
});
