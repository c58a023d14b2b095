/**
 * The local Redis Cluster of docker/local/redis-cluster.sh (three masters, one replica each) as
 * the tests start it, fail it over and break it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../docker/local/stack';
import { sleep, waitFor } from './helpers';

const run = promisify(execFile);
const SCRIPT = join(ROOT, 'docker', 'local', 'redis-cluster.sh');

export interface ClusterNode {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** A replica's master. */
  masterId?: string;
  /** A master's slot ranges, as `CLUSTER NODES` prints them. */
  slots: string[];
  failed: boolean;
}

/** Starts the cluster (or reuses a healthy one); returns REDIS_CLUSTER_NODES for it. */
export async function startRedisCluster(): Promise<string> {
  await run('bash', [SCRIPT, 'start'], { timeout: 120_000 });
  return (await run('bash', [SCRIPT, 'nodes'])).stdout.trim();
}

export async function stopRedisCluster(): Promise<void> {
  await run('bash', [SCRIPT, 'stop'], { timeout: 60_000 });
}

const PORTS = [7301, 7302, 7303, 7304, 7305, 7306];

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 }))
    .stdout;
}

/** The cluster as a live node sees it. */
export async function clusterNodes(): Promise<ClusterNode[]> {
  for (const port of PORTS) {
    try {
      const text = await cli(port, 'cluster', 'nodes');
      return text
        .trim()
        .split('\n')
        .map((line): ClusterNode => {
          const [id, address, flags, master, , , , , ...slots] = line.split(' ');
          return {
            id,
            port: Number(address.split('@')[0].split(':')[1]),
            role: flags.includes('master') ? 'master' : 'replica',
            ...(master !== '-' && { masterId: master }),
            slots,
            failed: flags.includes('fail') || flags.includes('disconnected'),
          };
        });
    } catch {
      // that node is down: ask the next
    }
  }
  throw new Error('no node of the Redis Cluster answers');
}

/** Every node agrees every slot is served, and each master has a replica in sync. */
export async function clusterHealthy(): Promise<boolean> {
  try {
    for (const port of PORTS)
      if (!(await cli(port, 'cluster', 'info')).includes('cluster_state:ok')) return false;
    const nodes = await clusterNodes();
    const masters = nodes.filter((n) => n.role === 'master' && n.slots.length > 0 && !n.failed);
    const synced = nodes.filter((n) => n.role === 'replica' && !n.failed);
    for (const n of synced)
      if (!(await cli(n.port, 'info', 'replication')).includes('master_link_status:up')) return false;
    return masters.length === 3 && synced.length === 3;
  } catch {
    return false;
  }
}

const until = (what: string, probe: () => Promise<boolean>, timeoutMs: number) =>
  waitFor(probe, what, timeoutMs, 200);

/** A master serving slots, chosen by `pick` (0..1) among them. */
async function aMaster(pick: number): Promise<ClusterNode> {
  const masters = (await clusterNodes()).filter(
    (n) => n.role === 'master' && n.slots.length > 0 && !n.failed,
  );
  return masters[Math.min(masters.length - 1, Math.floor(pick * masters.length))];
}

/**
 * A manual failover: a replica of one master takes its slots over once it has every write
 * (CLUSTER FAILOVER run on the replica). Returns the old master's and the new master's ports.
 */
export async function manualFailover(pick = 0): Promise<{ from: number; to: number }> {
  const master = await aMaster(pick);
  const replica = (await clusterNodes()).find((n) => n.masterId === master.id && !n.failed);
  if (!replica) throw new Error(`master ${master.port} has no replica to fail over to`);
  await cli(replica.port, 'cluster', 'failover');
  await until(
    `replica ${replica.port} promoted`,
    async () => (await clusterNodes()).some((n) => n.id === replica.id && n.role === 'master'),
    20_000,
  );
  await until('cluster healthy after the failover', clusterHealthy, 30_000);
  return { from: master.port, to: replica.port };
}

/**
 * kill -9 of a master: its replica is elected after the node timeout and the cluster serves
 * every slot again; `downMs` later (counted from the kill) the killed node starts again, empty,
 * and rejoins as a replica.
 */
export async function killMaster(
  pick: number,
  downMs: number,
): Promise<{ killed: number; promoted: number }> {
  const master = await aMaster(pick);
  const replica = (await clusterNodes()).find((n) => n.masterId === master.id);
  // Asked of the node itself, not read from this checkout's files: the cluster may have been
  // started from another checkout (the script reuses whatever answers on its ports).
  const pid = Number(/process_id:(\d+)/.exec(await cli(master.port, 'info', 'server'))?.[1]);
  const dir = (await cli(master.port, 'config', 'get', 'dir')).trim().split('\n')[1];
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  await until(
    `a replica of ${master.port} promoted`,
    async () =>
      replica !== undefined && (await clusterNodes()).some((n) => n.id === replica.id && n.role === 'master'),
    30_000,
  );
  await sleep(Math.max(0, killedAt + downMs - Date.now()));
  await run('bash', [SCRIPT, 'start-node', String(master.port), dir], { timeout: 30_000 });
  await until('cluster healthy after the kill', clusterHealthy, 60_000);
  return { killed: master.port, promoted: replica!.port };
}

/** FLUSHALL on every master: the cluster forgets everything at once. */
export async function flushCluster(): Promise<void> {
  const masters = (await clusterNodes()).filter((n) => n.role === 'master' && !n.failed);
  await Promise.all(masters.map((m) => cli(m.port, 'flushall')));
}
