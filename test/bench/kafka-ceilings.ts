import { Kafka, Partitioners } from 'kafkajs';
import { round } from './process-stats';

export interface Measured {
  /** Records per second. */
  rate: number;
  /** CPU milliseconds of this process per 1,000 records. */
  cpuPer1000: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Times `work` over `count` records, and the CPU this process spent on it. */
export async function measured(count: number, work: () => Promise<void>): Promise<Measured> {
  const started = performance.now();
  const cpu = cpuMs();
  await work();
  return {
    rate: Math.round(count / ((performance.now() - started) / 1000)),
    cpuPer1000: round(((cpuMs() - cpu) / count) * 1000, 2),
  };
}

/**
 * The kafkajs ceilings with the producer set up as libs/messaging sets it up (idempotent, one
 * request in flight, acks=all): `count` records produced in requests of 500 over 29 keys into
 * an existing `topic`, then consumed from the beginning by a fresh group.
 */
export async function kafkajsBulk(
  kafka: Kafka,
  topic: string,
  count: number,
  value: string,
): Promise<{ produce: Measured; consume: Measured }> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const produce = await measured(count, async () => {
    for (let i = 0; i < count; i += 500)
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: Math.min(500, count - i) }, (_, j) => ({
          key: `c${(i + j) % 29}`,
          value,
        })),
      });
  });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: topic, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const consume = await measured(count, async () => {
    let consumed = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          consumed += batch.messages.length;
          if (consumed >= count) resolve();
        },
      });
    });
  });
  await consumer.disconnect();
  return { produce, consume };
}
