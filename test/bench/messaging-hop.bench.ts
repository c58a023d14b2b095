/**
 * `npm run bench:messaging-hop`: one hop through libs/messaging as the services use it, on
 * each Kafka client: the process's BatchProducer publishes one inbound event every 10 ms
 * (100/s, 29 conversations) and a batch consumer of the same process handles them. Reports
 * the publish (acks=all) and publish→handled latencies and this process's CPU per 1,000
 * events. Clients alternate, `--runs N` times each. Writes .local/bench/messaging-hop.json.
 *
 *   node -r tsconfig-paths/register dist/test/bench/messaging-hop.bench.js [--runs 2] [--events 1500]
 */
import { Kafka, logLevel } from 'kafkajs';
import { AppConfig } from '@im/config';
import {
  BatchProducer,
  createKafkaClient,
  topicFor,
  type InboundMessage,
  type KafkaClientName,
} from '@im/messaging';
import { printTable, runBench, writeBenchResults } from './bench-output';
import { measured } from './kafka-ceilings';
import { pct, round } from './process-stats';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('runs', 2);
const EVENTS = arg('events', 1500);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface HopFigures {
  client: KafkaClientName;
  publishP50Ms: number;
  publishP99Ms: number;
  handledP50Ms: number;
  handledP99Ms: number;
  cpuMsPer1000: number;
}

async function hop(client: KafkaClientName): Promise<HopFigures> {
  const config = Object.assign(new AppConfig(), {
    KAFKA_CLIENT: client,
    KAFKA_TOPIC_PREFIX: `bench-hop-${client}-${Date.now()}`,
    INSTANCE_ID: `bench-hop-${client}`,
  });
  const kafka = createKafkaClient(config, 'bench');
  await kafka.ensureTopics(['inbound']);
  const producer = new BatchProducer(kafka.recordSender(), config);
  await producer.connect();
  const published: number[] = [];
  const handled: number[] = [];
  const consumer = kafka.consumer({
    service: 'bench',
    topic: 'inbound',
    handle: async ({ events }) => {
      for (const e of events) handled.push(performance.now() - e.acceptedAt);
    },
  });
  await consumer.start();
  await sleep(3000); // the group settles first
  const cost = await measured(EVENTS, async () => {
    for (let i = 0; i < EVENTS; i++) {
      const at = performance.now();
      const event = { clientMsgId: `m${i}`, acceptedAt: at } as unknown as InboundMessage;
      void producer
        .publish('inbound', `c${i % 29}`, event)
        .then(() => published.push(performance.now() - at));
      await sleep(10);
    }
    while (handled.length < EVENTS) await sleep(20);
  });
  await consumer.stop();
  await producer.disconnect();
  await kafka.close();
  const admin = new Kafka({ brokers: [config.KAFKA_BROKERS], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topicFor(config, 'inbound')] }).catch(() => undefined);
  await admin.disconnect();
  const sorted = (a: number[]) => [...a].sort((x, y) => x - y);
  return {
    client,
    publishP50Ms: round(pct(sorted(published), 50)),
    publishP99Ms: round(pct(sorted(published), 99)),
    handledP50Ms: round(pct(sorted(handled), 50)),
    handledP99Ms: round(pct(sorted(handled), 99)),
    cpuMsPer1000: Math.round(cost.cpuPer1000),
  };
}

async function main() {
  const results: HopFigures[] = [];
  for (let run = 1; run <= RUNS; run++)
    for (const client of ['kafkajs', 'platformatic'] as const) {
      process.stdout.write(`[messaging-hop] run ${run}/${RUNS}: ${client} ...\n`);
      results.push(await hop(client));
    }
  printTable(
    ['client', 'publish p50', 'p99', 'handled p50', 'p99', 'CPU ms/1k'],
    results.map((r) => [
      r.client,
      r.publishP50Ms,
      r.publishP99Ms,
      r.handledP50Ms,
      r.handledP99Ms,
      r.cpuMsPer1000,
    ]),
    14,
    13,
  );
  process.stdout.write(` result: ${writeBenchResults('messaging-hop', results)}\n`);
}

if (require.main === module) runBench('messaging-hop', main);
