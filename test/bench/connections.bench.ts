/**
 * `npm run bench:connections`: what an idle, authenticated WebSocket costs the gateway. Starts
 * a stack of its own with the gateway under `--inspect`, so the bench can collect garbage
 * (HeapProfiler.collectGarbage) before each reading instead of counting the garbage that
 * opening connections leaves; opens `--connections` (20,000) connections, 100 devices per user,
 * and reports heap + external memory and RSS per connection, read after a full GC with the
 * connections open and before. `--snapshot` also takes a heap snapshot at both points and
 * prints which object kinds grew by how many bytes per connection. Writes
 * .local/bench/connections.json.
 *
 *   node -r tsconfig-paths/register dist/test/bench/connections.bench.js [--connections 19500] [--snapshot]
 */
import { join } from 'node:path';
import WebSocket from 'ws';
import { LocalStack, ROOT } from '../../docker/local/stack';
import { contextForStack, TestUser } from '../support/context';
import { dropRun } from '../support/own-stack';
import { benchEnv } from './bench-env';
import { printTable, runBench, writeBenchResults } from './bench-output';
import { Inspector } from './inspector';
import { round, rssBytes } from './process-stats';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
// This machine's hard limit of open files is 20,000 per process (not raisable in its
// container): both the gateway and this process hold one per connection.
const CONNECTIONS = arg('connections', 19_500);
const SNAPSHOT = process.argv.includes('--snapshot');
const DEVICES_PER_USER = 100;
const OPENING_AT_ONCE = 50;
const INSPECTOR_PORT = 9339;
const log = (line: string) => process.stdout.write(`${line}\n`);

async function openConnections(gatewayUrl: string, users: TestUser[], count: number): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  let next = 0;
  const openOne = async (i: number) => {
    const user = users[Math.floor(i / DEVICES_PER_USER)];
    const ws = new WebSocket(`${gatewayUrl.replace('http', 'ws')}/ws?token=${user.token}&deviceId=d-${i}`);
    await new Promise((r, j) => ws.once('message', r).once('error', j));
    sockets.push(ws);
    if (sockets.length % 2000 === 0) log(`[connections]   ${sockets.length}/${count} open`);
  };
  await Promise.all(
    Array.from({ length: OPENING_AT_ONCE }, async () => {
      while (next < count) await openOne(next++);
    }),
  );
  return sockets;
}

async function main() {
  const run = `conn-${Date.now().toString(36)}`;
  const env = benchEnv(run, { MAX_CONNECTIONS_PER_USER: String(DEVICES_PER_USER) });
  const stack = new LocalStack({
    env,
    basePort: 8750,
    logDir: join(ROOT, '.local', 'logs', run),
    nodeArgsOf: { gateway: [`--inspect=127.0.0.1:${INSPECTOR_PORT}`] },
  });
  log(`[connections] starting the stack ...`);
  await stack.start();
  const gateway = stack.get('gateway');
  let inspector: Inspector | undefined;
  let sockets: WebSocket[] = [];
  try {
    const ctx = contextForStack(stack, env);
    const users: TestUser[] = [];
    for (let i = 0; i < Math.ceil(CONNECTIONS / DEVICES_PER_USER); i++) users.push(await ctx.newUser('idle'));
    inspector = await Inspector.open(INSPECTOR_PORT);
    // Warm up: the first connections load code and fill caches that are not per connection.
    const warm = await openConnections(ctx.gateway(), users, 200);
    for (const ws of warm) ws.close();
    await new Promise((r) => setTimeout(r, 2000));

    const kindsBefore = SNAPSHOT ? await inspector.heapByKind() : undefined;
    const before = { ...(await inspector.memoryAfterGc()), rss: rssBytes(gateway.process!.pid!) };
    log(`[connections] opening ${CONNECTIONS} idle connections ...`);
    sockets = await openConnections(ctx.gateway(), users, CONNECTIONS);
    await new Promise((r) => setTimeout(r, 3000));
    const after = { ...(await inspector.memoryAfterGc()), rss: rssBytes(gateway.process!.pid!) };
    const kindsAfter = SNAPSHOT ? await inspector.heapByKind() : undefined;

    const per = (a: number, b: number) => round((a - b) / CONNECTIONS / 1024, 2);
    const result = {
      connections: CONNECTIONS,
      heapKiB: per(after.heap, before.heap),
      externalKiB: per(after.external, before.external),
      heapAndExternalKiB: per(after.heap + after.external, before.heap + before.external),
      rssKiB: per(after.rss, before.rss),
      grownByKind: [] as { kind: string; bytesPerConnection: number }[],
    };
    if (kindsBefore && kindsAfter) {
      result.grownByKind = [...kindsAfter]
        .map(([kind, bytes]) => ({
          kind,
          bytesPerConnection: round((bytes - (kindsBefore.get(kind) ?? 0)) / CONNECTIONS),
        }))
        .filter((k) => k.bytesPerConnection >= 8)
        .sort((a, b) => b.bytesPerConnection - a.bytesPerConnection)
        .slice(0, 25);
      printTable(
        ['object kind (heap snapshot)', 'bytes per connection'],
        result.grownByKind.map((k) => [k.kind, k.bytesPerConnection]),
        48,
        22,
      );
    }
    printTable(
      ['per idle connection (after a full GC)', 'KiB'],
      [
        ['heap used', result.heapKiB],
        ['external', result.externalKiB],
        ['heap + external', result.heapAndExternalKiB],
        ['RSS', result.rssKiB],
      ],
      40,
      10,
    );
    log(` result: ${writeBenchResults('connections', result)}`);
  } finally {
    for (const ws of sockets) ws.terminate();
    inspector?.close();
    await stack.stop();
    await dropRun(env.KAFKA_TOPIC_PREFIX, env.DATABASE_URL, () => undefined).catch(() => undefined);
  }
}

if (require.main === module) runBench('connections', main);
