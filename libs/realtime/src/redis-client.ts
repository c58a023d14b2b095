import { Logger } from '@nestjs/common';
import Redis, { Cluster, ClusterOptions, Command, RedisOptions } from 'ioredis';
import { AbortError, RedisError } from 'redis-errors';
import type { RedisTarget } from '@im/config';

/** One Redis server or a Redis Cluster: the stores take either (see batchOf, groupBySlot). */
export type RedisClient = Redis | Cluster;

export const isCluster = (redis: RedisClient): redis is Cluster => (redis as Cluster).isCluster === true;

/** The prefix the client puts before every key (Redis and Cluster both keep it in `options`). */
export const keyPrefixOf = (redis: RedisClient): string => redis.options.keyPrefix ?? '';

const nodeOptions: RedisOptions = {
  // Off: a full chaos run with it on left a few connections' sends waiting forever after a
  // Redis restart (cause not pinned down); it bought ~10 %, inside the bench's noise.
  enableAutoPipelining: false,
  // Commands wait while Redis restarts instead of failing at once; callers time out themselves.
  maxRetriesPerRequest: 3,
  enableOfflineQueue: true,
  retryStrategy: (times) => Math.min(50 * times, 1000),
};

/**
 * A client whose every key (and, through GatewayBus, every channel) carries the deployment's
 * prefix, so deployments sharing a Redis never read each other's membership, presence or
 * pending re-pushes. A string is a single server's URL.
 */
export function createRedis(target: RedisTarget | string, keyPrefix: string): RedisClient {
  const t: RedisTarget = typeof target === 'string' ? { kind: 'single', url: target } : target;
  const redis =
    t.kind === 'single'
      ? new Redis(t.url, { ...nodeOptions, keyPrefix, reconnectOnError: () => true })
      : new OutageTypedCluster(t.nodes, clusterOptions(t, keyPrefix));
  reportOutages(redis);
  return redis;
}

function clusterOptions(t: Extract<RedisTarget, { kind: 'cluster' }>, keyPrefix: string): ClusterOptions {
  return {
    keyPrefix,
    enableOfflineQueue: true,
    // While a master fails over, its slots answer CLUSTERDOWN or fail to connect for a few
    // seconds: retried for about as long as the single-server client waits for a restart.
    retryDelayOnClusterDown: 300,
    retryDelayOnFailover: 200,
    // While a failover's new slot owners spread by gossip, nodes can point at each other for a
    // moment; redirections retried at once used all of them up in milliseconds (seen in e2e).
    retryDelayOnMoved: 100,
    retryDelayOnTryAgain: 200,
    maxRedirections: 16,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    redisOptions: { ...nodeOptions, ...clusterNodeAuth(t) },
  };
}

/** Credentials and TLS that every node of a cluster is reached with. */
export const clusterNodeAuth = (t: Extract<RedisTarget, { kind: 'cluster' }>): RedisOptions => ({
  ...(t.username !== undefined && { username: t.username }),
  ...(t.password !== undefined && { password: t.password }),
  ...(t.tls && { tls: {} }),
});

/**
 * One warning when a connection to Redis fails and one line when it is back. Without an
 * 'error' listener ioredis prints "Unhandled error event" for every reconnect attempt (over a
 * thousand lines in a chaos run's logs); it reconnects either way.
 */
export function reportOutages(redis: RedisClient): void {
  const logger = new Logger('redis');
  let down = false;
  const failed = (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(`connection to Redis failed (reconnecting): ${error.message}`);
  };
  redis.on('error', failed);
  // A cluster reports a node's failures separately; the cluster client stays usable.
  if (isCluster(redis)) redis.on('node error', failed);
  const back = () => {
    if (down) logger.log('connection to Redis is back');
    down = false;
  };
  redis.on('ready', back);
  if (isCluster(redis)) redis.on('+node', back);
}

/**
 * A command a cluster client gave up on without Redis refusing it: redirections used up while a
 * failover settled, or its node's connection closed. Typed, so that callers answer
 * `unavailable` (retry later) as they do when a single server is down.
 */
export class RedisClusterUnreachableError extends AbortError {
  constructor(readonly reason: Error) {
    super(`Redis Cluster out of reach: ${reason.message}`);
  }
}

const TYPED = new WeakSet<Command>();

/** ioredis rejects such commands with a plain Error; this client rejects them typed. */
class OutageTypedCluster extends Cluster {
  override sendCommand(command: Command, stream?: unknown, node?: unknown): unknown {
    if (!TYPED.has(command)) {
      TYPED.add(command);
      const reject = command.reject;
      command.reject = (error: Error) =>
        reject.call(command, error instanceof RedisError ? error : new RedisClusterUnreachableError(error));
    }
    return super.sendCommand(command, stream as never, node);
  }
}
