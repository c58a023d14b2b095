import { randomUUID } from 'node:crypto';
import { Consumer } from '@platformatic/kafka';
import { AppConfig } from '@im/config';
import { PlatformaticConsumer } from '../../libs/messaging/src/platformatic/platformatic-consumer';
import type { StringConsumer } from '../../libs/messaging/src/platformatic/library-membership';
import { platformaticConnection } from '../../libs/messaging/src/platformatic/platformatic-connection';
import { waitFor } from '../support/helpers';
import { inboundTopic } from './support/inbound-topic';

/**
 * A CI run had both members of the sequencer's group hold nothing for 86 s after a restart,
 * logging nothing: the watchdog only looked at partitions a member holds. Here the real broker
 * assigns the topic to a member whose library never hands over its assignment nor its records
 * (as if it lost them); the watchdog must see the group's lag stand still and rejoin.
 */
describe('the consumer watchdog on @platformatic/kafka (real Kafka)', () => {
  const config = Object.assign(new AppConfig(), {
    KAFKA_TOPIC_PREFIX: `medium-watchdog-${randomUUID().slice(0, 8)}`,
    KAFKA_PARTITIONS: 2,
  });
  const { publish, committedTotal } = inboundTopic(config);

  /** A library consumer that joins and is assigned partitions, but never shows them nor their records. */
  const deaf = (consumer: StringConsumer): StringConsumer =>
    new Proxy(consumer, {
      get(target, key) {
        if (key === 'assignments') return [];
        if (key === 'consume')
          return async (...args: Parameters<StringConsumer['consume']>) => {
            const stream = await target.consume(...args);
            return new Proxy(stream, {
              get(s, k, r) {
                const value: unknown = Reflect.get(s, k, s);
                if (typeof value !== 'function') return value;
                // The stream's methods use its private fields: they run on the stream itself.
                if (k !== 'on') return (value as (...a: unknown[]) => unknown).bind(s);
                const on = value as (event: string, listener: (...a: unknown[]) => void) => unknown;
                return (event: string, listener: (...a: unknown[]) => void) =>
                  event === 'data' ? r : on.call(s, event, listener);
              },
            });
          };
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });

  const consumerWith = (seen: string[], libraryConsumers: StringConsumer[], firstDeaf: boolean) =>
    new PlatformaticConsumer(
      platformaticConnection(config, 'medium'),
      config,
      {
        service: 'medium',
        topic: 'inbound',
        handle: async ({ events }) => {
          for (const e of events) seen.push(e.clientMsgId);
        },
      },
      (options) => {
        const real: StringConsumer = new Consumer(options);
        const made = firstDeaf && libraryConsumers.length === 0 ? deaf(real) : real;
        libraryConsumers.push(made);
        return made;
      },
    );

  it('rejoins a member that holds nothing while the group lags without moving, and then consumes', async () => {
    // The group has a history: 10 records handled and committed by a healthy member.
    await publish(0, 10);
    const before: string[] = [];
    const healthy = consumerWith(before, [], false);
    await healthy.start();
    await waitFor(async () => (await committedTotal()) === 10, '10 records committed', 30_000);
    await healthy.stop();

    await publish(10, 30);
    const seen: string[] = [];
    const libraryConsumers: StringConsumer[] = [];
    const member = consumerWith(seen, libraryConsumers, true);
    await member.start();
    try {
      // Two stall checks ~30 s apart see the same lag; the next library consumer is a healthy one.
      await waitFor(() => libraryConsumers.length > 1, 'the watchdog to rejoin', 100_000);
      await waitFor(() => seen.length >= 20, 'the 20 waiting records handled after the rejoin', 30_000);
      expect(new Set(seen)).toEqual(new Set(Array.from({ length: 20 }, (_, i) => `m${10 + i}`)));
      expect(before).toHaveLength(10);
    } finally {
      await member.stop();
    }
  }, 180_000);
});
