import type { AppConfig } from '@im/config';
import type { Kafka } from 'kafkajs';
import { KafkajsConsumer } from './kafkajs-consumer';

/** A stand-in for kafkajs's consumer that records its calls and lets a test fire CRASH. */
class FakeConsumer {
  readonly events = {
    GROUP_JOIN: 'consumer.group_join',
    CRASH: 'consumer.crash',
    REBALANCING: 'consumer.rebalancing',
    FETCH: 'consumer.fetch',
  };
  readonly calls: string[] = [];
  readonly commits: { topic: string; partition: number; offset: string }[][] = [];
  eachBatch?: (payload: unknown) => Promise<void>;
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
  async run(options: { eachBatch: (payload: unknown) => Promise<void> }) {
    this.calls.push('run');
    this.eachBatch = options.eachBatch;
  }
  emit(event: keyof FakeConsumer['events'], payload: unknown = {}) {
    this.listeners.get(this.events[event])?.({ payload });
  }
  async disconnect() {
    this.calls.push('disconnect');
  }
  pause() {
    this.calls.push('pause');
  }
  async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]) {
    this.calls.push('commit');
    this.commits.push(offsets);
  }
}

/** A KafkajsConsumer of storage over fake kafkajs consumers: every consumer it creates is kept. */
function setup(handle: () => Promise<void> = async () => undefined) {
  const consumers: FakeConsumer[] = [];
  const kafka = {
    consumer: () => {
      const c = new FakeConsumer();
      consumers.push(c);
      return c;
    },
  } as unknown as Kafka;
  const config = { KAFKA_TOPIC_PREFIX: 'test', KAFKA_PARTITIONS: 4 } as AppConfig;
  return {
    consumer: new KafkajsConsumer(kafka, config, { service: 'storage', topic: 'sequenced', handle }),
    consumers,
  };
}

/**
 * Regression (chaos suite): a storage consumer that kafkajs gave up on (a non-retriable error,
 * CRASH with restart=false) stayed stopped while the service looked healthy, and its partitions
 * were never served again. The consumer now starts a new kafkajs consumer.
 */
describe('KafkajsConsumer after a crash', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

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

/** A batch of one partition as kafkajs's eachBatch hands it over. */
function batchOf(partition: number, offsets: number[], stale = () => false) {
  return {
    batch: {
      topic: 'test.sequenced',
      partition,
      messages: offsets.map((o) => ({ offset: String(o), value: Buffer.from('{}') })),
      offsetLag: () => '0',
      lastOffset: () => String(offsets[offsets.length - 1]),
    },
    isRunning: () => true,
    isStale: stale,
    resolveOffset: () => undefined,
    heartbeat: async () => undefined,
  };
}

/** Offsets are committed from what is durable, on an interval and when partitions move, never per batch. */
describe('KafkajsConsumer commits', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  async function started(handle?: () => Promise<void>) {
    const { consumer, consumers } = setup(handle);
    await consumer.start();
    return { consumer, fake: consumers[0] };
  }

  it('commits the offset after the last handled batch per partition on the interval, not per batch', async () => {
    const { consumer, fake } = await started();
    await fake.eachBatch!(batchOf(0, [3, 4]));
    await fake.eachBatch!(batchOf(0, [5]));
    await fake.eachBatch!(batchOf(1, [7]));
    expect(fake.commits).toEqual([]);
    await jest.advanceTimersByTimeAsync(500);
    expect(fake.commits).toEqual([
      [
        { topic: 'test.sequenced', partition: 0, offset: '6' },
        { topic: 'test.sequenced', partition: 1, offset: '8' },
      ],
    ]);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fake.commits).toHaveLength(1);
    await consumer.stop();
  });

  it('never commits a batch whose handler failed, nor one whose partition moved meanwhile', async () => {
    let fail = true;
    const { consumer, fake } = await started(async () => {
      if (fail) throw new Error('database down');
    });
    await expect(fake.eachBatch!(batchOf(0, [3]))).rejects.toThrow('database down');
    fail = false;
    await fake.eachBatch!(batchOf(1, [9], () => true));
    await jest.advanceTimersByTimeAsync(500);
    expect(fake.commits).toEqual([]);
    await consumer.stop();
  });

  it('commits at once when a rebalance starts, and forgets partitions assigned elsewhere', async () => {
    const { consumer, fake } = await started();
    await fake.eachBatch!(batchOf(0, [1]));
    await fake.eachBatch!(batchOf(2, [4]));
    fake.emit('REBALANCING');
    await jest.advanceTimersByTimeAsync(0);
    expect(fake.commits).toHaveLength(1);
    fake.emit('GROUP_JOIN', { memberAssignment: { 'test.sequenced': [2] } });
    await fake.eachBatch!(batchOf(2, [5]));
    await fake.eachBatch!(batchOf(0, [2], () => true));
    await jest.advanceTimersByTimeAsync(500);
    expect(fake.commits[1]).toEqual([{ topic: 'test.sequenced', partition: 2, offset: '6' }]);
    await consumer.stop();
  });

  it('lets the batch in progress finish and commits it before leaving the group', async () => {
    let release!: () => void;
    const { consumer, fake } = await started(() => new Promise<void>((r) => (release = r)));
    const batch = fake.eachBatch!(batchOf(3, [10]));
    const stopped = consumer.stop();
    await jest.advanceTimersByTimeAsync(0);
    expect(fake.calls).not.toContain('disconnect');
    release();
    await batch;
    await stopped;
    expect(fake.commits).toEqual([[{ topic: 'test.sequenced', partition: 3, offset: '11' }]]);
    expect(fake.calls.slice(-3)).toEqual(['pause', 'commit', 'disconnect']);
  });
});

/** A consumer whose fetch loop went silent (kafkajs stuck, or gave up without a CRASH) is replaced. */
describe('KafkajsConsumer watchdog', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('replaces a consumer that fetched nothing for over 30 s', async () => {
    const { consumer, consumers } = setup();
    await consumer.start();
    consumers[0].emit('GROUP_JOIN', { memberAssignment: { 'test.sequenced': [0, 1] } });
    await jest.advanceTimersByTimeAsync(30_000);
    expect(consumers).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(consumers).toHaveLength(2);
    expect(consumers[0].calls).toContain('disconnect');
    expect(consumers[1].calls).toEqual(['connect', 'subscribe', 'run']);
    await consumer.stop();
  });

  it('leaves alone a consumer that was given no partition (more instances than partitions)', async () => {
    const { consumer, consumers } = setup();
    await consumer.start();
    consumers[0].emit('GROUP_JOIN', { memberAssignment: {} });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(consumers).toHaveLength(1);
    await consumer.stop();
  });

  it('stops cleanly when it never got to run', async () => {
    const { consumer, consumers } = setup();
    await consumer.start();
    consumers[0].pause = () => {
      throw new Error('Consumer group was not initialized, consumer#run must be called first');
    };
    await consumer.stop();
    expect(consumers[0].calls).toContain('disconnect');
  });

  it('leaves alone a consumer that keeps fetching, and one busy with a long batch', async () => {
    let release!: () => void;
    const { consumer, consumers } = setup(() => new Promise<void>((r) => (release = r)));
    await consumer.start();
    consumers[0].emit('GROUP_JOIN', { memberAssignment: { 'test.sequenced': [0] } });
    for (let i = 0; i < 6; i++) {
      consumers[0].emit('FETCH');
      await jest.advanceTimersByTimeAsync(10_000);
    }
    const batch = consumers[0].eachBatch!(batchOf(0, [1]));
    await jest.advanceTimersByTimeAsync(50_000);
    expect(consumers).toHaveLength(1);
    release();
    await batch;
    await consumer.stop();
  });
});

/** kafkajs heartbeats only between batches; a long batch must not cost its consumer the group. */
describe('KafkajsConsumer heartbeats while a batch is handled', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('heartbeats every second while a batch runs, for at most 60 s, and not once it is done', async () => {
    let release!: () => void;
    const { consumer, consumers } = setup(() => new Promise<void>((r) => (release = r)));
    await consumer.start();
    let beats = 0;
    const payload = { ...batchOf(0, [1]), heartbeat: async () => void beats++ };
    const batch = consumers[0].eachBatch!(payload);
    await jest.advanceTimersByTimeAsync(3_000);
    expect(beats).toBe(3);
    await jest.advanceTimersByTimeAsync(70_000);
    expect(beats).toBe(60);
    release();
    await batch;
    const afterBatch = beats; // kafkajs's own heartbeat after the batch
    await jest.advanceTimersByTimeAsync(5_000);
    expect(beats).toBe(afterBatch);
    await consumer.stop();
  });
});
