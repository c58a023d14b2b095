/**
 * `npm run bench:pipeline`: sustained send→ack throughput and latency of the whole pipeline
 * (gateway → Kafka → sequencer → storage → delivery → ack), one sender and 50 senders, on a
 * fresh stack of separate processes. Prints a table and writes .local/bench/pipeline.json.
 *
 * `-- --webhooks moderate|down` adds a webhook receiver in this process (every recipient is
 * offline, so every message also makes a message.offline notice): `moderate` turns
 * before_send on and allows everything; `down` answers every call 500, so the notices pile up
 * in their queue while the chat should go on as before.
 *
 * `-- --ceilings` measures the machine's ceilings (raw Kafka, PostgreSQL inserts, ws echo) after
 * the scenarios, in the same sitting, to stand beside them.
 *
 * `-- --otel` turns OpenTelemetry on, every send traced, towards a collector in this process
 * that counts the spans and drops them.
 *
 * `-- --redis-cluster` runs the services on the local Redis Cluster (docker/local/redis-cluster.sh,
 * three masters with a replica each) instead of the machine's Redis. The CPU figures are the
 * services' own; Redis' CPU is not in them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStack, ROOT } from '../../docker/local/stack';
import { contextForStack, TestContext } from '../support/context';
import { TestClient } from '../support/test-client';
import { WebhookReceiver } from '../support/webhook-receiver';
import { startRedisCluster } from '../support/redis-cluster';
import { machineCeilings, type MachineCeilings } from './machine-ceilings';
import { cpuSeconds } from './process-stats';

interface Scenario {
  name: string;
  senders: number;
  messagesPerSender: number;
  /** Unacked sends a sender keeps in flight. */
  window: number;
}

interface Result extends Scenario {
  messages: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU of the four services per message, in ms. */
  cpuMsPerMessage: number;
  /** CPU of this process (load generator, and the webhook receiver when there is one) per message, in ms. */
  benchCpuMsPerMessage: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function runSender(
  client: TestClient,
  conversationId: string,
  count: number,
  window: number,
  latencies: number[],
  progress: { acked: number },
) {
  const sentAt = new Map<string, number>();
  let next = 0;
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = () => {
      while (next < count && next - acked < window) {
        const id = randomUUID();
        sentAt.set(id, performance.now());
        client.sendRaw({
          type: 'send',
          clientMsgId: id,
          conversationId,
          contentType: 'text',
          body: { text: `m${next}` },
        });
        next++;
      }
    };
    client.ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as {
        type: string;
        clientMsgId?: string;
        ref?: string;
        code?: string;
      };
      if (frame.type === 'error') return reject(new Error(`error frame ${JSON.stringify(frame)}`));
      if (frame.type !== 'ack' || !frame.clientMsgId) return;
      const start = sentAt.get(frame.clientMsgId);
      if (start === undefined) return;
      sentAt.delete(frame.clientMsgId);
      latencies.push(performance.now() - start);
      acked++;
      progress.acked++;
      if (acked === count) resolve();
      else pump();
    });
    pump();
  });
}

async function runScenario(ctx: TestContext, stack: LocalStack, scenario: Scenario): Promise<Result> {
  const pairs = await Promise.all(
    Array.from({ length: scenario.senders }, async () => {
      const [a, b] = [await ctx.newUser('s'), await ctx.newUser('r')];
      const conversationId = await ctx.newConversation([a, b]);
      return { client: await ctx.connect(a), conversationId };
    }),
  );
  const latencies: number[] = [];
  const progress = { acked: 0 };
  const total = scenario.senders * scenario.messagesPerSender;
  const ticker = setInterval(
    () => process.stdout.write(`\r  ${scenario.name}: ${progress.acked}/${total} acked`),
    1000,
  );
  const pids = stack.instances.map((i) => i.process?.pid ?? 0);
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const benchBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    pairs.map((p) =>
      runSender(p.client, p.conversationId, scenario.messagesPerSender, scenario.window, latencies, progress),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore;
  const bench = process.cpuUsage(benchBefore);
  clearInterval(ticker);
  process.stdout.write(`\r  ${scenario.name}: ${total}/${total} acked          \n`);
  for (const p of pairs) p.client.close();
  latencies.sort((x, y) => x - y);
  return {
    ...scenario,
    messages: total,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(total / seconds),
    p50Ms: Number(percentile(latencies, 50).toFixed(1)),
    p99Ms: Number(percentile(latencies, 99).toFixed(1)),
    maxMs: Number(latencies[latencies.length - 1].toFixed(1)),
    cpuMsPerMessage: Number(((cpu * 1000) / total).toFixed(3)),
    benchCpuMsPerMessage: Number(((bench.user + bench.system) / 1000 / total).toFixed(3)),
  };
}

/** `BENCH_PROFILE_DIR=dir` writes a CPU profile of every service there (node --cpu-prof). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

type WebhookMode = 'off' | 'moderate' | 'down';

function webhookMode(): WebhookMode {
  const i = process.argv.indexOf('--webhooks');
  const mode = i < 0 ? 'off' : process.argv[i + 1];
  if (mode !== 'off' && mode !== 'moderate' && mode !== 'down')
    throw new Error('--webhooks takes off, moderate or down');
  return mode;
}

async function webhookEnv(mode: WebhookMode, receiver: WebhookReceiver): Promise<Record<string, string>> {
  if (mode === 'off') return {};
  const url = await receiver.start();
  receiver.answer = () => (mode === 'down' ? { status: 500 } : { status: 200, body: { action: 'allow' } });
  return {
    WEBHOOK_URL: url,
    WEBHOOK_SECRET: randomBytes(24).toString('hex'),
    WEBHOOK_BEFORE_SEND: String(mode === 'moderate'),
  };
}

/** A collector that only counts: what tracing costs the services, not what storing spans costs. */
async function otelEnv(spans: { count: number }): Promise<Record<string, string>> {
  if (!process.argv.includes('--otel')) return {};
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      spans.count += (raw.match(/"spanId"/g) ?? []).length;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  server.unref();
  return { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const REDIS_CLUSTER = process.argv.includes('--redis-cluster');

async function main() {
  const run = `${Date.now().toString(36)}`;
  const mode = webhookMode();
  const spans = { count: 0 };
  const receiver = new WebhookReceiver();
  const env = {
    NODE_ENV: 'test',
    ADMIN_TOKEN: randomBytes(24).toString('hex'),
    JWT_SECRET: randomBytes(24).toString('hex'),
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/im_bench_${run}`,
    KAFKA_TOPIC_PREFIX: `bench-${run}`,
    LOG_LEVEL: 'warn',
    // Measures the pipeline, not the abuse limits.
    RATE_LIMIT_CONNECTION_PER_SEC: '100000',
    RATE_LIMIT_USER_PER_SEC: '100000',
    ...(await webhookEnv(mode, receiver)),
    ...(await otelEnv(spans)),
    ...(REDIS_CLUSTER ? { REDIS_CLUSTER_NODES: await startRedisCluster() } : {}),
  };
  const stack = new LocalStack({
    env,
    basePort: 4600,
    ...(PROFILE_DIR ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] } : {}),
    logDir: join(ROOT, '.local', 'logs', `bench-${run}`),
  });
  console.log('starting the stack ...');
  await stack.start();
  const ctx = contextForStack(stack, env);
  const scenarios: Scenario[] = [
    { name: 'warm-up', senders: 5, messagesPerSender: 200, window: 20 },
    { name: '1 in flight', senders: 1, messagesPerSender: 300, window: 1 },
    {
      name: '1 sender',
      senders: 1,
      messagesPerSender: Number(process.env.BENCH_MESSAGES ?? 10000),
      window: 100,
    },
    {
      name: '50 senders',
      senders: 50,
      messagesPerSender: Math.ceil((Number(process.env.BENCH_MESSAGES ?? 10000) * 2) / 50),
      window: 20,
    },
  ];
  const results: Result[] = [];
  let ceilings: MachineCeilings | undefined;
  try {
    for (const s of scenarios) results.push(await runScenario(ctx, stack, s));
    if (process.argv.includes('--ceilings')) {
      console.log('ceilings on this machine ...');
      ceilings = await machineCeilings(env.DATABASE_URL, { text: 'm1234' });
    }
  } finally {
    ctx.closeAll();
    await stack.stop();
    await receiver.stop();
  }
  const shown = results.filter((r) => r.name !== 'warm-up');
  console.log(
    `\nredis: ${REDIS_CLUSTER ? 'cluster' : 'single'}; webhooks: ${mode}; webhook calls received: ${receiver.requests.length}; spans received: ${spans.count}`,
  );
  console.log(
    'scenario      messages  in flight/sender   msg/s   send→ack p50   p99      max   CPU ms/msg  bench CPU',
  );
  for (const r of shown) {
    console.log(
      `${r.name.padEnd(12)} ${String(r.messages).padStart(9)} ${String(r.window).padStart(18)} ${String(r.perSecond).padStart(7)} ${(r.p50Ms + ' ms').padStart(14)} ${(r.p99Ms + ' ms').padStart(8)} ${(r.maxMs + ' ms').padStart(8)} ${String(r.cpuMsPerMessage).padStart(11)} ${String(r.benchCpuMsPerMessage).padStart(10)}`,
    );
  }
  if (ceilings)
    console.log(
      `ceilings: Kafka produce ${ceilings.produceRate}/s, consume ${ceilings.consumeRate}/s, PostgreSQL insert ${ceilings.insertRate} rows/s, ws echo ${ceilings.echoRate}/s`,
    );
  const out = join(ROOT, '.local', 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(
      out,
      `pipeline${mode === 'off' ? '' : `-webhooks-${mode}`}${process.argv.includes('--otel') ? '-otel' : ''}${REDIS_CLUSTER ? '-cluster' : ''}.json`,
    ),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        webhooks: mode,
        otel: process.argv.includes('--otel'),
        redis: REDIS_CLUSTER ? 'cluster' : 'single',
        spans: spans.count,
        ceilings,
        results: shown,
      },
      null,
      2,
    ),
  );
  console.log(`\nwritten to ${out}`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
