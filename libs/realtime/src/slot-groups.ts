import type { ChainableCommander } from 'ioredis';
import { keySlot } from './key-slot';
import { isCluster, keyPrefixOf, RedisClient } from './redis-client';

/**
 * Items grouped so that each group's keys share a Redis Cluster slot, in their first
 * appearance's order, each group in the items' order. On a single server: one group of all,
 * so a batch stays one call.
 */
export function groupBySlot<T>(redis: RedisClient, items: readonly T[], keyOf: (item: T) => string): T[][] {
  if (!isCluster(redis)) return items.length === 0 ? [] : [[...items]];
  const prefix = keyPrefixOf(redis);
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = keySlot(prefix + keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return [...groups.values()];
}

/** MGET of keys from any slots: one MGET per slot on a cluster (in parallel), one on a single server. */
export async function getMany(redis: RedisClient, keys: readonly string[]): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  if (!isCluster(redis)) return redis.mget(...keys);
  const groups = groupBySlot(
    redis,
    keys.map((key, index) => ({ key, index })),
    (k) => k.key,
  );
  const values: (string | null)[] = new Array<string | null>(keys.length).fill(null);
  const replies = await Promise.all(groups.map((g) => redis.mget(...g.map((k) => k.key))));
  groups.forEach((group, g) => group.forEach((k, i) => (values[k.index] = replies[g][i])));
  return values;
}

/**
 * A pipeline of commands on keys of any slots. On a single server it is a real pipeline (one
 * write). A cluster's pipeline must stay on one node, so there the commands are sent one by
 * one on their nodes' connections (ioredis writes them without waiting for replies, and
 * follows MOVED/ASK per command during a failover); `exec()` answers like a pipeline's, one
 * `[error, reply]` per command in order, so `execAll` reads both the same way.
 */
export function batchOf(redis: RedisClient): ChainableCommander {
  return isCluster(redis) ? looseBatch(redis) : redis.pipeline();
}

type Call = (...args: unknown[]) => Promise<unknown>;

function looseBatch(redis: RedisClient): ChainableCommander {
  const calls: [Call, unknown[]][] = [];
  const commands = redis as unknown as Record<string | symbol, unknown>;
  const batch: ChainableCommander = new Proxy({} as ChainableCommander, {
    get(_target, name) {
      if (name === 'exec')
        return () =>
          Promise.all(
            calls.map(([call, args]) =>
              call.apply(redis, args).then(
                (reply) => [null, reply] as [null, unknown],
                (error: Error) => [error, null] as [Error, null],
              ),
            ),
          );
      const command = commands[name];
      // Not a command (`then` among others: the batch is not a promise), or a script that was
      // not defined on this client (RedisScript.queue reports that).
      if (typeof name !== 'string' || name === 'then' || typeof command !== 'function') return undefined;
      return (...args: unknown[]) => {
        calls.push([command as Call, args]);
        return batch;
      };
    },
  });
  return batch;
}
