import { Kafka, logLevel } from 'kafkajs';
import type { AppConfig } from '@im/config';
import { BatchProducer, createKafkaClient, groupFor, topicFor, type InboundMessage } from '@im/messaging';

/**
 * A spec's own `inbound` topic on the real broker (named by `config`'s topic prefix): a
 * producer into it, and a kafkajs admin of the test's own to look at the `medium` group's
 * commits. Creates the topic before the spec's tests and deletes it after them.
 */
export function inboundTopic(config: AppConfig) {
  const kafka = createKafkaClient(config, 'medium');
  const producer = new BatchProducer(kafka.recordSender(), config);
  const admin = new Kafka({ brokers: [config.KAFKA_BROKERS], logLevel: logLevel.NOTHING }).admin();

  /** Records m<from>..m<to - 1>, keyed k<i>. */
  const publish = (from: number, to: number) =>
    producer.publishAll(
      'inbound',
      Array.from({ length: to - from }, (_, k) => ({
        key: `k${from + k}`,
        event: { clientMsgId: `m${from + k}` } as unknown as InboundMessage,
      })),
    );

  /** The group's committed offsets summed over the partitions: how many records it is done with. */
  const committedTotal = async () => {
    const [committed] = await admin.fetchOffsets({
      groupId: groupFor(config, 'medium.inbound'),
      topics: [topicFor(config, 'inbound')],
    });
    return committed.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
  };

  beforeAll(async () => {
    await kafka.ensureTopics(['inbound']);
    await producer.connect();
    await admin.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topicFor(config, 'inbound')] }).catch(() => undefined);
    await admin.disconnect();
    await kafka.close();
  });

  return { kafka, publish, committedTotal };
}
