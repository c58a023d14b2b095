/**
 * `npm run bench:kafka-clients`: the Kafka clients this project could use, side by side on
 * what it asks of one (issue 14): produce with acks=all and idempotence in requests of 500
 * (the ceiling), consume from the beginning (the ceiling), and one hop at chat rates, where
 * the cost is per request, not per byte: 100 messages a second, each its own acks=all produce,
 * read by a group consumer with 6 s sessions that commits on an interval. Reports rates, CPU
 * milliseconds of this process per 1,000 messages, and the hop's produce→consume latency.
 * Clients run one after another, `--runs N` times each, against the local broker. Writes
 * .local/bench/kafka-clients.json.
 *
 *   node -r tsconfig-paths/register dist/test/bench/kafka-clients.bench.js [--runs 2] [--count 50000] [--hop 1000]
 */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { printTable, runBench, writeBenchResults } from './bench-output';
import { kafkajsBulk, measured, type Measured } from './kafka-ceilings';
import { pct, round } from './process-stats';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = arg('runs', 2);
const COUNT = arg('count', 50_000);
const HOP_MESSAGES = arg('hop', 1_000);
const HOP_RATE = 100;
const BROKER = '127.0.0.1:9092';
const VALUE = JSON.stringify({
  conversationId: 'c',
  senderId: 'u',
  clientMsgId: randomUUID(),
  contentType: 'text',
  body: { text: 'x'.repeat(120) },
});

interface Figures {
  client: string;
  produceRate: number;
  produceCpuMsPer1000: number;
  consumeRate: number;
  consumeCpuMsPer1000: number;
  hopCpuMsPer1000: number;
  hopP50Ms: number;
  hopP99Ms: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Sends HOP_MESSAGES, one produce each, at HOP_RATE/s, and waits until the consumer has them all. */
async function hop(
  send: (id: string, key: string) => void,
  arrived: Promise<void>,
  sentAt: Map<string, number>,
) {
  await sleep(3000); // the group settles first
  return measured(HOP_MESSAGES, async () => {
    for (let i = 0; i < HOP_MESSAGES; i++) {
      sentAt.set(String(i), performance.now());
      send(String(i), `c${i % 29}`);
      await sleep(1000 / HOP_RATE);
    }
    await arrived;
  });
}

/** Collects produce→consume latencies until every hop message arrived. */
function hopReceiver(sentAt: Map<string, number>) {
  const latencies: number[] = [];
  let done!: () => void;
  const arrived = new Promise<void>((r) => (done = r));
  const receive = (id: string) => {
    latencies.push(performance.now() - (sentAt.get(id) ?? performance.now()));
    if (latencies.length >= HOP_MESSAGES) done();
  };
  return { latencies, arrived, receive };
}

async function kafkajs(): Promise<Figures> {
  const kafka = new Kafka({ clientId: 'bench-clients', brokers: [BROKER], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-clients-kafkajs-${Date.now()}`;
  const hopTopic = `${topic}-hop`;
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 6 },
      { topic: hopTopic, numPartitions: 6 },
    ],
    waitForLeaders: true,
  });
  const { produce, consume } = await kafkajsBulk(kafka, topic, COUNT, VALUE);
  // The hop's producer as libs/messaging sets it up: idempotent, one request in flight, acks=all.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();

  const sentAt = new Map<string, number>();
  const receiver = hopReceiver(sentAt);
  const hopConsumer = kafka.consumer({
    groupId: hopTopic,
    maxWaitTimeInMs: 50,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
  });
  await hopConsumer.connect();
  await hopConsumer.subscribe({ topic: hopTopic, fromBeginning: true });
  // autoCommit off, as libs/messaging runs it (it commits on an interval itself).
  await hopConsumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) receiver.receive(m.value?.toString() ?? '');
    },
  });
  const cost = await hop(
    (id, key) => void producer.send({ topic: hopTopic, acks: -1, messages: [{ key, value: id }] }),
    receiver.arrived,
    sentAt,
  );
  await hopConsumer.disconnect();
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic, hopTopic] });
  await admin.disconnect();
  return figures('kafkajs 2.2.4', produce, consume, cost, receiver.latencies);
}

async function platformatic(): Promise<Figures> {
  const base = { clientId: 'bench-clients', bootstrapBrokers: [BROKER] };
  const admin = new Admin(base);
  const topic = `bench-clients-platformatic-${Date.now()}`;
  const hopTopic = `${topic}-hop`;
  await admin.createTopics({ topics: [topic, hopTopic], partitions: 6, replicas: 1 });
  await sleep(1000); // leaders elected
  const producer = new Producer({ ...base, serializers: stringSerializers, idempotent: true, acks: -1 });
  const produce = await measured(COUNT, async () => {
    for (let i = 0; i < COUNT; i += 500)
      await producer.send({
        messages: Array.from({ length: Math.min(500, COUNT - i) }, (_, j) => ({
          topic,
          key: `c${(i + j) % 29}`,
          value: VALUE,
        })),
      });
  });
  const consumer = new Consumer({
    ...base,
    groupId: topic,
    deserializers: stringDeserializers,
    maxWaitTime: 50,
  });
  const consume = await measured(COUNT, async () => {
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    });
    let consumed = 0;
    await new Promise<void>((resolve) =>
      stream.on('data', () => {
        if (++consumed === COUNT) resolve();
      }),
    );
    await stream.close();
  });
  await consumer.close();

  const sentAt = new Map<string, number>();
  const receiver = hopReceiver(sentAt);
  const hopConsumer = new Consumer({
    ...base,
    groupId: hopTopic,
    deserializers: stringDeserializers,
    maxWaitTime: 50,
    sessionTimeout: 6000,
    heartbeatInterval: 1000,
  });
  const hopStream = await hopConsumer.consume({
    topics: [hopTopic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: 500,
  });
  hopStream.on('data', (m) => receiver.receive(String(m.value)));
  const cost = await hop(
    (id, key) => void producer.send({ messages: [{ topic: hopTopic, key, value: id }] }),
    receiver.arrived,
    sentAt,
  );
  await hopStream.close();
  await hopConsumer.close();
  await producer.close();
  await admin.deleteTopics({ topics: [topic, hopTopic] });
  await admin.close();
  return figures('@platformatic/kafka 2.12.1', produce, consume, cost, receiver.latencies);
}

function figures(
  client: string,
  produce: Measured,
  consume: Measured,
  hopCost: Measured,
  latencies: number[],
): Figures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    client,
    produceRate: produce.rate,
    produceCpuMsPer1000: produce.cpuPer1000,
    consumeRate: consume.rate,
    consumeCpuMsPer1000: consume.cpuPer1000,
    hopCpuMsPer1000: hopCost.cpuPer1000,
    hopP50Ms: round(pct(sorted, 50)),
    hopP99Ms: round(pct(sorted, 99)),
  };
}

async function main() {
  const results: Figures[] = [];
  for (let run = 1; run <= RUNS; run++)
    for (const client of [kafkajs, platformatic]) {
      process.stdout.write(`[kafka-clients] run ${run}/${RUNS}: ${client.name} ...\n`);
      results.push(await client());
    }
  const cols: [string, keyof Figures][] = [
    ['produce/s', 'produceRate'],
    ['CPU ms/1k', 'produceCpuMsPer1000'],
    ['consume/s', 'consumeRate'],
    ['CPU ms/1k', 'consumeCpuMsPer1000'],
    ['hop CPU ms/1k', 'hopCpuMsPer1000'],
    ['hop p50 ms', 'hopP50Ms'],
    ['hop p99 ms', 'hopP99Ms'],
  ];
  printTable(
    ['client', ...cols.map(([h]) => h)],
    results.map((r) => [r.client, ...cols.map(([, k]) => r[k])]),
    28,
    15,
  );
  process.stdout.write(` result: ${writeBenchResults('kafka-clients', results)}\n`);
}

if (require.main === module) runBench('kafka-clients', main);
