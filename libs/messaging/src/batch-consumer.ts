import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Logger } from '@nestjs/common';
import { metrics } from '@im/metrics';
import { AppConfig } from '@im/config';
import { TopicEvents, TopicName } from './events';
import { groupFor, topicFor } from './kafka-client';

const lag = metrics.gauge(
  'im_kafka_consumer_lag',
  'Messages behind the end of the partition after the last batch',
);

export interface ConsumedBatch<T extends TopicName> {
  partition: number;
  events: TopicEvents[T][];
  /** True once a rebalance gave this partition to another consumer: stop before side effects. */
  isStale: () => boolean;
  /** Messages of the partition after this batch, as the fetch saw them. */
  lag: number;
}

const COMMIT_INTERVAL_MS = 500;

/** A handler returns 'abandoned' to leave the batch uncommitted for the partition's new owner. */
export type BatchOutcome = void | 'abandoned';

/**
 * Consumes one topic in batches, one partition's batch at a time per partition, and commits
 * a batch's offsets only after the handler resolved, i.e. after its output is durable (every
 * COMMIT_INTERVAL_MS, and when partitions are revoked). A crash before the commit replays the
 * batch, so every handler is idempotent.
 */
export class BatchConsumer<T extends TopicName> {
  private consumer: Consumer;
  private readonly logger: Logger;
  private running = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: AppConfig,
    private readonly service: string,
    private readonly topic: T,
    private readonly handle: (batch: ConsumedBatch<T>) => Promise<BatchOutcome>,
    private readonly onRebalance?: () => void,
  ) {
    this.logger = new Logger(`${service}:${topic}`);
    this.consumer = this.create();
  }

  private create(): Consumer {
    const consumer = this.kafka.consumer({
      groupId: groupFor(this.config, `${this.service}.${this.topic}`),
      sessionTimeout: 15000,
      heartbeatInterval: 1000,
      rebalanceTimeout: 20000,
      maxWaitTimeInMs: 50,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 20 },
    });
    consumer.on(consumer.events.GROUP_JOIN, () => this.onRebalance?.());
    consumer.on(consumer.events.CRASH, (e) => {
      this.logger.error(`consumer crashed: ${String(e.payload.error)}; restart=${e.payload.restart}`);
      // kafkajs gives up on errors it does not retry; a consumer that stopped for good would
      // leave its partitions unserved while the service looks healthy. Start a new one.
      if (!e.payload.restart && this.running) setTimeout(() => void this.restart(consumer), 2000);
    });
    return consumer;
  }

  private async restart(crashed: Consumer): Promise<void> {
    if (!this.running || crashed !== this.consumer) return;
    this.logger.warn('restarting the consumer after a fatal crash');
    await crashed.disconnect().catch(() => undefined);
    this.consumer = this.create();
    await this.start().catch((error) => {
      this.logger.error(`consumer restart failed: ${String(error)}; trying again`);
      setTimeout(() => void this.restart(this.consumer), 5000);
    });
  }

  /**
   * Joins the group, retrying for a while: at start-up the topics may have just been created
   * by another service and have no leader yet, or the broker may be restarting.
   */
  async start(deadline = Date.now() + 120_000): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        this.logger.warn(`could not start consuming (attempt ${attempt}): ${String(error)}; retrying`);
        await this.consumer.disconnect().catch(() => undefined);
        this.consumer = this.create();
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * attempt)));
      }
    }
  }

  private async startOnce(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: topicFor(this.config, this.topic), fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      // kafkajs commits only offsets we resolved, i.e. batches whose output is durable; doing it
      // on an interval instead of after every batch takes a broker round trip off each hop. A
      // crash replays at most the last interval, which every handler is idempotent for.
      autoCommit: true,
      autoCommitInterval: COMMIT_INTERVAL_MS,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, Math.min(4, this.config.KAFKA_PARTITIONS)),
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const events = batch.messages.map((m) => JSON.parse(m.value?.toString() ?? 'null') as TopicEvents[T]);
    // A failing handler throws: kafkajs then retries the same batch, and nothing is committed.
    const behind = Number(batch.offsetLag());
    const outcome = await this.handle({
      partition: batch.partition,
      events,
      isStale: () => payload.isStale(),
      lag: behind,
    });
    if (outcome === 'abandoned') return;
    lag.set({ topic: batch.topic, partition: String(batch.partition) }, behind);
    // Resolving moves kafkajs's fetch position and makes the offset eligible for the next commit.
    payload.resolveOffset(batch.lastOffset());
    await payload.heartbeat();
  }

  isRunning(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    this.running = false;
    // disconnect() waits for the batch in progress and leaves the group.
    await this.consumer.disconnect();
  }
}
