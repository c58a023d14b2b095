/**
 * `npm run bench:pipeline`: sustained send→ack throughput and latency of the whole pipeline
 * (gateway → Kafka → sequencer → storage → delivery → ack), one sender and 50 senders, on a
 * fresh stack of separate processes. Prints a table and writes .local/bench/pipeline.json.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalStack, ROOT } from '../../docker/local/stack';
import { contextForStack, TestContext } from '../support/context';
import { TestClient } from '../support/test-client';

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

async function runScenario(ctx: TestContext, scenario: Scenario): Promise<Result> {
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
  const started = performance.now();
  await Promise.all(
    pairs.map((p) =>
      runSender(p.client, p.conversationId, scenario.messagesPerSender, scenario.window, latencies, progress),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
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
  };
}

async function main() {
  const run = `${Date.now().toString(36)}`;
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
  };
  const stack = new LocalStack({ env, basePort: 4600, logDir: join(ROOT, '.local', 'logs', `bench-${run}`) });
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
  try {
    for (const s of scenarios) results.push(await runScenario(ctx, s));
  } finally {
    ctx.closeAll();
    await stack.stop();
  }
  const shown = results.filter((r) => r.name !== 'warm-up');
  console.log('\nscenario      messages  in flight/sender   msg/s   send→ack p50   p99      max');
  for (const r of shown) {
    console.log(
      `${r.name.padEnd(12)} ${String(r.messages).padStart(9)} ${String(r.window).padStart(18)} ${String(r.perSecond).padStart(7)} ${(r.p50Ms + ' ms').padStart(14)} ${(r.p99Ms + ' ms').padStart(8)} ${(r.maxMs + ' ms').padStart(8)}`,
    );
  }
  const out = join(ROOT, '.local', 'bench');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'pipeline.json'),
    JSON.stringify({ at: new Date().toISOString(), results: shown }, null, 2),
  );
  console.log(`\nwritten ${join(out, 'pipeline.json')}`);
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
