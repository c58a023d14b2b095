import { EventEmitter } from 'node:events';
import { NetworkError, ProtocolError } from '@platformatic/kafka';
import type { AppConfig } from '@im/config';
import type { BatchOutcome, ConsumedBatch } from '../kafka-client';
import { PlatformaticConsumer, type StringConsumer } from './platformatic-consumer';

const TOPIC = 'test.sequenced';

/** The library's messages stream, as far as the consumer uses it. */
class FakeStream extends EventEmitter {
  paused = false;
  offsetsToFetch = new Map<string, bigint>();
  pause() {
    this.paused = true;
  }
  resume() {
    this.paused = false;
  }
  isPaused() {
    return this.paused;
  }
  async close() {}
}

/** The library's consumer: assignments a test sets, commits it records. */
class FakeConsumer extends EventEmitter {
  assignments: { topic: string; partitions: number[] }[] | null = [{ topic: TOPIC, partitions: [0, 1] }];
  readonly stream = new FakeStream();
  readonly commits: { partition: number; offset: bigint }[][] = [];
  closed = false;
  /** consume() calls still to refuse (the broker unreachable). */
  refuse = 0;
  async consume() {
    if (this.refuse > 0) {
      this.refuse--;
      throw new Error('broker unreachable');
    }
    return this.stream;
  }
  async commit({ offsets }: { offsets: { partition: number; offset: bigint }[] }) {
    this.commits.push(offsets.map(({ partition, offset }) => ({ partition, offset })));
  }
  /** How close() was called: true for a forced close (no leave request). */
  closedForced?: boolean;
  async close(force = false) {
    this.closed = true;
    this.closedForced = force;
  }
  /** The partitions' ends and the group's commits, for the watchdog: nothing waits by default. */
  ends = [0n, 0n];
  committed = [0n, 0n];
  /** The broker does not answer the watchdog's questions. */
  silent = false;
  async listOffsets() {
    if (this.silent) throw new Error('request timed out');
    return new Map([[TOPIC, this.ends]]);
  }
  async listCommittedOffsets() {
    if (this.silent) throw new Error('request timed out');
    return new Map([[TOPIC, this.committed]]);
  }
  /** Fetched records arrive. */
  deliver(partition: number, ...offsets: number[]) {
    for (const offset of offsets)
      this.stream.emit('data', {
        topic: TOPIC,
        partition,
        offset: BigInt(offset),
        value: JSON.stringify({ messageId: `p${partition}-${offset}` }),
      });
  }
  /** The group moved partitions (a KIP-848 heartbeat brought a new assignment). */
  reassign(partitions: number[]) {
    this.assignments = [{ topic: TOPIC, partitions }];
    this.emit('consumer:heartbeat:end');
  }
}

const config = {
  KAFKA_TOPIC_PREFIX: 'test',
  KAFKA_STATIC_MEMBERSHIP: '1',
  INSTANCE_ID: 'storage-0',
  KAFKA_GROUP_PROTOCOL: 'consumer',
  KAFKA_SESSION_TIMEOUT_MS: 6000,
  KAFKA_FETCH_MAX_WAIT_MS: 50,
} as AppConfig;
const connection = { clientId: 'storage', bootstrapBrokers: ['b:9092'], connectTimeout: 1, timeout: 1 };

type Batch = ConsumedBatch<'sequenced'>;
const ids = (b: Batch) => b.events.map((e) => e.messageId);

async function started(handle: (batch: Batch) => Promise<BatchOutcome>) {
  const fakes: FakeConsumer[] = [];
  const consumer = new PlatformaticConsumer(
    connection,
    config,
    { service: 'storage', topic: 'sequenced', handle: async (b) => handle(b) },
    () => {
      const next = new FakeConsumer();
      next.refuse = fakes.at(-1)?.refuse ?? 0; // the broker's state carries over
      fakes.push(next);
      return next as unknown as StringConsumer;
    },
  );
  await consumer.start();
  return { consumer, fake: fakes[0], fakes };
}

describe('PlatformaticConsumer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('hands a partition its records in order, in batches, and commits the watermark on the interval', async () => {
    const batches: string[][] = [];
    const { consumer, fake } = await started(async (b) => void batches.push(ids(b)));
    fake.deliver(0, 10, 11, 12);
    fake.deliver(1, 5);
    await jest.advanceTimersByTimeAsync(10);
    expect(batches).toEqual([['p0-10', 'p0-11', 'p0-12'], ['p1-5']]);
    expect(fake.commits).toEqual([]);
    await jest.advanceTimersByTimeAsync(500);
    expect(fake.commits).toEqual([
      [
        { partition: 0, offset: 13n },
        { partition: 1, offset: 6n },
      ],
    ]);
    await consumer.stop();
  });

  // A failing dependency (PostgreSQL restarting): the same batch again, nothing behind it first.
  it('hands a failed batch again until it passes, and commits nothing past it meanwhile', async () => {
    const seen: string[][] = [];
    let failures = 2;
    const { consumer, fake } = await started(async (b) => {
      seen.push(ids(b));
      if (failures-- > 0) throw new Error('PostgreSQL restarting');
    });
    fake.deliver(0, 1, 2);
    await jest.advanceTimersByTimeAsync(10);
    fake.deliver(0, 3);
    await jest.advanceTimersByTimeAsync(600);
    expect(seen.slice(0, 3)).toEqual([
      ['p0-1', 'p0-2'],
      ['p0-1', 'p0-2'],
      ['p0-1', 'p0-2'],
    ]);
    expect(seen[3]).toEqual(['p0-3']);
    await jest.advanceTimersByTimeAsync(500);
    expect(fake.commits.flat()).toContainEqual({ partition: 0, offset: 4n });
    expect(fake.commits.flat().every((c) => c.offset !== 2n && c.offset !== 3n)).toBe(true);
    await consumer.stop();
  });

  // A busy member never holds the group: the partition moves while its batch runs; the batch
  // sees it (the sequencer then abandons) and is not committed, and what was queued is dropped.
  it('marks a running batch of a revoked partition stale, never commits it and drops its queue', async () => {
    let release!: () => void;
    const stale: boolean[] = [];
    const batches: string[][] = [];
    const { consumer, fake } = await started(async (b) => {
      batches.push(ids(b));
      if (b.partition === 1) await new Promise<void>((r) => (release = r));
      stale.push(b.isStale());
    });
    fake.deliver(1, 7);
    await jest.advanceTimersByTimeAsync(10);
    fake.deliver(1, 8);
    fake.reassign([0]);
    release();
    await jest.advanceTimersByTimeAsync(600);
    expect(batches).toEqual([['p1-7']]);
    expect(stale).toEqual([true]);
    expect(fake.commits.flat().filter((c) => c.partition === 1)).toEqual([]);
    await consumer.stop();
  });

  it('on stop lets the batch in progress finish, commits it, then leaves the group', async () => {
    let release!: () => void;
    const { consumer, fake } = await started(
      (b) => new Promise<void>((r) => (release = () => r(void ids(b)))),
    );
    fake.deliver(0, 41);
    await jest.advanceTimersByTimeAsync(10);
    const stopping = consumer.stop();
    expect(fake.stream.paused).toBe(true);
    expect(fake.closed).toBe(false);
    release();
    await stopping;
    expect(fake.commits).toEqual([[{ partition: 0, offset: 42n }]]);
    expect(fake.closed).toBe(true);
  });

  // A restart that failed (the broker away for longer than its start deadline) left the
  // consumer not running; the retry scheduled for it must still happen.
  it('tries a failed restart again until the consumer runs', async () => {
    const handled: string[][] = [];
    const { consumer, fakes } = await started(async (b) => void handled.push(ids(b)));
    fakes[0].refuse = 1_000; // every consume() refused from now on
    fakes[0].stream.emit('error', new Error('stream broke'));
    await jest.advanceTimersByTimeAsync(130_000); // past the restart's 120 s start deadline
    expect(consumer.isRunning()).toBe(false);
    fakes.at(-1)!.refuse = 0; // the broker is back
    await jest.advanceTimersByTimeAsync(130_000);
    expect(consumer.isRunning()).toBe(true);
    fakes.at(-1)!.deliver(0, 3);
    await jest.advanceTimersByTimeAsync(10);
    expect(handled).toEqual([['p0-3']]);
    await consumer.stop();
  });

  describe('watchdog', () => {
    // Seen in a CI run: after a restart over a PostgreSQL restart, both members of a group
    // held nothing for 86 s and logged nothing, while the group's partitions waited.
    it('rejoins when it holds no partition while a partition of the group lags without moving', async () => {
      const { consumer, fakes } = await started(async () => undefined);
      fakes[0].reassign([]);
      fakes[0].ends = [0n, 40n];
      fakes[0].committed = [0n, 12n];
      await jest.advanceTimersByTimeAsync(36_000); // the first check: lagging, but not yet seen still
      expect(fakes).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(35_000); // the second check: it has not moved
      expect(fakes).toHaveLength(2);
      expect(fakes[0].closed).toBe(true);
      await consumer.stop();
    });

    it('stays when the lagging partitions move (another member serves them)', async () => {
      const { consumer, fakes } = await started(async () => undefined);
      fakes[0].reassign([]);
      fakes[0].ends = [0n, 40n];
      for (let committed = 12n; committed < 20n; committed++) {
        fakes[0].committed = [0n, committed];
        await jest.advanceTimersByTimeAsync(35_000);
      }
      expect(fakes).toHaveLength(1);
      await consumer.stop();
    });

    it('rejoins when the broker leaves its stall checks unanswered for a minute', async () => {
      const { consumer, fakes } = await started(async () => undefined);
      fakes[0].silent = true;
      await jest.advanceTimersByTimeAsync(80_000);
      expect(fakes).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(15_000);
      expect(fakes).toHaveLength(2);
      await consumer.stop();
    });

    // A broker back after longer than the session answers the old member id UNKNOWN_MEMBER_ID;
    // the library keeps heartbeating it (and fetching) forever, outside the group.
    it('rejoins when the coordinator no longer knows the member, without a leave request', async () => {
      const { consumer, fakes } = await started(async () => undefined);
      fakes[0].emit('consumer:heartbeat:error', { error: new NetworkError('Connection closed') });
      await jest.advanceTimersByTimeAsync(10);
      expect(fakes).toHaveLength(1);
      fakes[0].emit('consumer:heartbeat:error', { error: new ProtocolError('UNKNOWN_MEMBER_ID') });
      fakes[0].emit('consumer:heartbeat:error', { error: new ProtocolError('UNKNOWN_MEMBER_ID') });
      await jest.advanceTimersByTimeAsync(10);
      expect(fakes).toHaveLength(2);
      expect(fakes[0].closedForced).toBe(true);
      fakes[1].deliver(0, 7);
      await jest.advanceTimersByTimeAsync(10);
      await consumer.stop();
      expect(fakes[1].closedForced).toBe(false);
    });

    it('rejoins when a held partition has records past where it would fetch', async () => {
      const { consumer, fakes } = await started(async () => undefined);
      fakes[0].deliver(1, 4);
      fakes[0].ends = [0n, 9n];
      await jest.advanceTimersByTimeAsync(36_000);
      expect(fakes).toHaveLength(2);
      await consumer.stop();
    });
  });

  describe('pipelined outputs', () => {
    /** A handler that queues its output and hands back a promise the test settles. */
    const queued = () => {
      const outputs: { ids: string[]; done: () => void; fail: (e: Error) => void }[] = [];
      const handle = async (b: Batch): Promise<BatchOutcome> => {
        let done!: () => void;
        let fail!: (e: Error) => void;
        const durable = new Promise<void>((resolve, reject) => ((done = resolve), (fail = reject)));
        outputs.push({ ids: ids(b), done, fail });
        return { durable };
      };
      return { outputs, handle };
    };

    it('hands the next batch while an output is in flight, and commits a batch once it and those before it are durable', async () => {
      const { outputs, handle } = queued();
      const { consumer, fake } = await started(handle);
      fake.deliver(0, 10);
      await jest.advanceTimersByTimeAsync(1);
      fake.deliver(0, 11);
      await jest.advanceTimersByTimeAsync(1);
      expect(outputs.map((o) => o.ids)).toEqual([['p0-10'], ['p0-11']]);

      outputs[1].done();
      await jest.advanceTimersByTimeAsync(500);
      expect(fake.commits).toEqual([]); // the later one alone commits nothing
      outputs[0].done();
      await jest.advanceTimersByTimeAsync(500);
      expect(fake.commits).toEqual([[{ partition: 0, offset: 12n }]]);
      await consumer.stop();
    });

    it('keeps up to 8 outputs of a partition in flight, however many overlapped before', async () => {
      const { outputs, handle } = queued();
      const { consumer, fake } = await started(handle);
      const deliverOne = async (offset: number) => {
        fake.deliver(0, offset);
        await jest.advanceTimersByTimeAsync(1);
      };
      await deliverOne(1);
      await deliverOne(2);
      for (const o of outputs) o.done();
      await jest.advanceTimersByTimeAsync(1);
      for (let offset = 3; offset <= 11; offset++) await deliverOne(offset);
      // Eight handed with none of them durable; the ninth waits until those are.
      expect(outputs).toHaveLength(10);
      for (const o of outputs.slice(2, 9)) o.done();
      await jest.advanceTimersByTimeAsync(1);
      expect(outputs).toHaveLength(10);
      outputs[9].done();
      await jest.advanceTimersByTimeAsync(1);
      expect(outputs).toHaveLength(11);
      for (const o of outputs) o.done();
      await consumer.stop();
      expect(fake.commits.flat().at(-1)).toEqual({ partition: 0, offset: 12n });
    });

    it('consumes again from the last commit when an output fails after the handler moved on', async () => {
      const { outputs, handle } = queued();
      const { consumer, fakes } = await started(handle);
      fakes[0].deliver(0, 10);
      await jest.advanceTimersByTimeAsync(1);
      outputs[0].done();
      await jest.advanceTimersByTimeAsync(500);
      fakes[0].deliver(0, 11);
      await jest.advanceTimersByTimeAsync(1);
      fakes[0].deliver(0, 12);
      await jest.advanceTimersByTimeAsync(1);
      expect(outputs.map((o) => o.ids)).toEqual([['p0-10'], ['p0-11'], ['p0-12']]);

      // Kafka refused the stream: both queued outputs fail.
      outputs[1].fail(new Error('produce failed'));
      outputs[2].fail(new Error('produce failed'));
      await jest.advanceTimersByTimeAsync(600);
      expect(fakes).toHaveLength(2); // a new consumer, which starts from the committed offset
      expect(fakes[0].commits.flat()).toEqual([{ partition: 0, offset: 11n }]);
      expect(fakes[0].closed).toBe(true);
      await consumer.stop();
    });
  });
});
