import { randomUUID } from 'node:crypto';
import { AppConfig } from '@im/config';
import type { KafkaClientName } from '@im/messaging';
import { inboundTopic } from './support/inbound-topic';

/**
 * Offsets are committed from what the handler finished, on an interval and before a consumer
 * leaves, not after every batch (issue 14). Against the real broker: what one consumer handled
 * is not handed to the next one in its group, and what is committed is exactly what was handled.
 */
describe.each<KafkaClientName>(['platformatic', 'kafkajs'])(
  'BatchConsumer commits on %s (real Kafka)',
  (client) => {
    const config = Object.assign(new AppConfig(), {
      KAFKA_CLIENT: client,
      KAFKA_TOPIC_PREFIX: `medium-commits-${randomUUID().slice(0, 8)}`,
      KAFKA_PARTITIONS: 2,
    });
    const { kafka, publish, committedTotal } = inboundTopic(config);
    const consumerOf = (seen: string[]) =>
      kafka.consumer({
        service: 'medium',
        topic: 'inbound',
        handle: async ({ events }) => {
          for (const e of events) seen.push(e.clientMsgId);
        },
      });
    const until = async (condition: () => boolean, what: string, ms = 30_000) => {
      const deadline = Date.now() + ms;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    it('commits what a running consumer handled on an interval, exactly that', async () => {
      await publish(0, 10);
      const seen: string[] = [];
      const consumer = consumerOf(seen);
      await consumer.start();
      await until(() => seen.length >= 10, '10 records handled');
      await new Promise((r) => setTimeout(r, 1500)); // three commit intervals
      expect(await committedTotal()).toBe(10);
      await consumer.stop();
    });

    it('hands a batch whose handler failed again, and never commits past it', async () => {
      await publish(100, 110);
      const seen: string[] = [];
      let failed = false;
      const consumer = kafka.consumer({
        service: 'medium',
        topic: 'inbound',
        handle: async ({ events }) => {
          // A dependency down once: the batch holding m105 fails the first time it is handled.
          if (!failed && events.some((e) => e.clientMsgId === 'm105')) {
            failed = true;
            throw new Error('PostgreSQL restarting');
          }
          for (const e of events) seen.push(e.clientMsgId);
        },
      });
      await consumer.start();
      const expected = Array.from({ length: 10 }, (_, k) => `m${100 + k}`);
      await until(
        () => expected.every((id) => seen.includes(id)),
        'm100..m109 handled, m105 after a failure',
      );
      await consumer.stop();
      expect(failed).toBe(true);
      expect([...new Set(seen)].sort()).toEqual(expected);
      // The first test's 10 and these 10: committed up to what was handled, nothing skipped.
      expect(await committedTotal()).toBe(20);
    });

    it('hands nothing already handled to the next consumer of the group after a stop', async () => {
      await publish(10, 30);
      const first: string[] = [];
      const a = consumerOf(first);
      await a.start();
      await until(() => first.length >= 20, 'the first consumer to handle 20 records');
      // Stopped right away: the last batches are committed by stop(), not by the interval.
      await a.stop();

      const second: string[] = [];
      const b = consumerOf(second);
      await b.start();
      await publish(30, 35);
      await until(() => second.length >= 5, 'the second consumer to handle the 5 new records');
      await new Promise((r) => setTimeout(r, 1000));
      expect(second.sort()).toEqual(['m30', 'm31', 'm32', 'm33', 'm34']);
      await b.stop();
    });
  },
);
