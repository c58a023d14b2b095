import { RedisError, ReplyError } from 'redis-errors';

/**
 * Replies by which Redis itself says "not now" (restarting, busy with a script, a replica
 * without its master). The first word of an error reply is its code by the RESP convention.
 */
const TRANSIENT_REPLY_CODES = new Set([
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'READONLY',
]);

/**
 * Whether an error thrown by an ioredis call means Redis was out of reach, so the same call
 * may pass later. ioredis fails a command it could not deliver with an AbortError (among them
 * MaxRetriesPerRequestError, while Redis restarts); an error reply is Redis answering, and only
 * the codes above mean a retry can help: any other reply is a bug of ours.
 */
export function isRedisOutage(error: unknown): boolean {
  if (!(error instanceof RedisError)) return false;
  if (error instanceof ReplyError) return TRANSIENT_REPLY_CODES.has(error.message.split(' ', 1)[0]);
  return true;
}
