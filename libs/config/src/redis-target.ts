/**
 * Where the services find Redis: one server (REDIS_URL), or a Redis Cluster (REDIS_CLUSTER_NODES).
 *
 * A cluster is named by a list of seed nodes rather than a single `redis+cluster://` URL: a
 * cluster client needs several seeds (any one may be down when a pod starts), no Redis tool
 * reads such a scheme, and a managed cluster's one configuration endpoint is a list of one.
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'cluster';
      nodes: { host: string; port: number }[];
      /** From the entries' `redis://user:password@` part; every node shares them. */
      username?: string;
      password?: string;
      /** `rediss://` entries: TLS to every node. */
      tls: boolean;
    };

/** `host:port` or `redis[s]://[user[:password]@]host:port`, separated by commas. */
export const CLUSTER_NODES_PATTERN =
  /^(rediss?:\/\/([^@/\s,]+@)?)?[A-Za-z0-9.[\]:-]+:\d{1,5}(,(rediss?:\/\/([^@/\s,]+@)?)?[A-Za-z0-9.[\]:-]+:\d{1,5})*$/;

export class RedisTargetError extends Error {}

/** Parses REDIS_CLUSTER_NODES (already matched against CLUSTER_NODES_PATTERN). */
export function parseClusterNodes(list: string): Extract<RedisTarget, { kind: 'cluster' }> {
  const entries = list.split(',').map((entry) => new URL(entry.includes('://') ? entry : `redis://${entry}`));
  const schemes = new Set(entries.map((u) => u.protocol));
  if (schemes.size > 1)
    throw new RedisTargetError('REDIS_CLUSTER_NODES mixes redis:// and rediss:// entries');
  const credentials = new Set(
    entries.filter((u) => u.username || u.password).map((u) => `${u.username}:${u.password}`),
  );
  if (credentials.size > 1)
    throw new RedisTargetError('REDIS_CLUSTER_NODES gives different credentials per node');
  const withAuth = entries.find((u) => u.username || u.password);
  return {
    kind: 'cluster',
    nodes: entries.map((u) => ({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) })),
    ...(withAuth?.username && { username: decodeURIComponent(withAuth.username) }),
    ...(withAuth?.password && { password: decodeURIComponent(withAuth.password) }),
    tls: entries[0].protocol === 'rediss:',
  };
}
