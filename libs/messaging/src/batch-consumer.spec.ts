import type { AppConfig } from '@im/config';
import type { Kafka } from 'kafkajs';
import { BatchConsumer } from './batch-consumer';

/** A stand-in for kafkajs's consumer that records its calls and lets a test fire CRASH. */
class FakeConsumer {
  readonly events = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' };
  readonly calls: string[] = [];
  private readonly listeners = new Map<string, (e: unknown) => void>();
  on(event: string, listener: (e: unknown) => void) {
    this.listeners.set(event, listener);
  }
  crash(restart: boolean) {
    this.listeners.get(this.events.CRASH)?.({ payload: { error: new Error('boom'), restart } });
  }
  async connect() {
    this.calls.push('connect');
  }
  async subscribe() {
    this.calls.push('subscribe');
  }
  async run() {
    this.calls.push('run');
  }
  async disconnect() {
    this.calls.push('disconnect');
  }
}

/**
 * Regression (chaos suite): a storage consumer that kafkajs gave up on (a non-retriable error,
 * CRASH with restart=false) stayed stopped while the service looked healthy, and its partitions
 * were never served again. The consumer now starts a new kafkajs consumer.
 */
describe('BatchConsumer after a crash', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function setup() {
    const consumers: FakeConsumer[] = [];
    const kafka = {
      consumer: () => {
        const c = new FakeConsumer();
        consumers.push(c);
        return c;
      },
    } as unknown as Kafka;
    const config = { KAFKA_TOPIC_PREFIX: 'test', KAFKA_PARTITIONS: 4 } as AppConfig;
    const consumer = new BatchConsumer(kafka, config, 'storage', 'sequenced', async () => undefined);
    return { consumer, consumers };
  }

  it('starts a new consumer when kafkajs gives up on the old one', async () => {
    const { consumer, consumers } = setup();
    await consumer.start();
    consumers[0].crash(false);
    await jest.advanceTimersByTimeAsync(2_500);
    expect(consumers).toHaveLength(2);
    expect(consumers[0].calls).toContain('disconnect');
    expect(consumers[1].calls).toEqual(['connect', 'subscribe', 'run']);
  });

  it('leaves a crash kafkajs restarts itself to kafkajs', async () => {
    const { consumer, consumers } = setup();
    await consumer.start();
    consumers[0].crash(true);
    await jest.advanceTimersByTimeAsync(2_500);
    expect(consumers).toHaveLength(1);
  });

  it('does not come back after it was stopped', async () => {
    const { consumer, consumers } = setup();
    await consumer.start();
    await consumer.stop();
    consumers[0].crash(false);
    await jest.advanceTimersByTimeAsync(2_500);
    expect(consumers).toHaveLength(1);
  });
});
