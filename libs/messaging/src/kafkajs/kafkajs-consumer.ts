import { Consumer, Kafka } from 'kafkajs';
import { Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { CommitWatermarks } from '../commit-watermarks';
import { OffsetCommitter } from '../offset-committer';
import { ConsumerWatchdog } from '../consumer-watchdog';
import { TopicName } from '../events';
import { BatchConsumer, BatchConsumerOptions, topicFor } from '../kafka-client';
import { retryUntil } from '../retry-until';
import { BusyBatches } from './busy-batches';
import { kafkajsConsumerConfig } from './consumer-config';
import { handleKafkajsBatch } from './handle-batch';

const COMMIT_INTERVAL_MS = 500;
const HEARTBEAT_INTERVAL_MS = 1000;
/**
 * A batch still being handled keeps its consumer in the group this long at most (heartbeats
 * from a timer); past it, the broker's failure detection takes over, so a handler stuck for
 * good does not hold its partitions for good.
 */
const BUSY_HEARTBEAT_LIMIT_MS = 60_000;
/** Silence (no fetch, no batch in progress) after which a consumer is replaced: above the 20 s rebalance timeout. */
const STALL_LIMIT_MS = 30_000;
const WATCHDOG_TICK_MS = 5_000;

/**
 * Consumes one topic in batches, one partition's batch at a time per partition, and commits
 * a batch's offsets only after the handler resolved, i.e. after its output is durable: every
 * COMMIT_INTERVAL_MS, when a rebalance starts and before the consumer leaves, never per batch
 * (kafkajs's own auto-commit sends an offset commit after every batch, whatever its interval
 * says: at low rates one broker round trip per message and hop). A crash before the commit
 * replays the batch, so every handler is idempotent.
 */
export class KafkajsConsumer<T extends TopicName> implements BatchConsumer {
  private consumer: Consumer;
  private readonly logger: Logger;
  private running = false;
  private readonly watermarks = new CommitWatermarks();
  private commitTimer?: NodeJS.Timeout;
  private readonly committer = new OffsetCommitter(
    this.watermarks,
    (offsets) => {
      const topic = topicFor(this.config, this.topic);
      return this.consumer.commitOffsets(offsets.map((o) => ({ topic, ...o })));
    },
    // Not fatal: a rebalance or a broker restart; the next owner replays from the last commit.
    (error) => this.logger.debug(`offset commit failed: ${String(error)}`),
  );
  /** Batches being handled: stop() lets them finish and commits them before leaving. */
  private readonly busy = new BusyBatches(BUSY_HEARTBEAT_LIMIT_MS);
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly watchdog = new ConsumerWatchdog(STALL_LIMIT_MS, Date.now());
  private watchdogTimer?: NodeJS.Timeout;
  private restarting = false;
  /** Partitions of the topic this consumer was given at its last join (none: nothing to fetch). */
  private assignedPartitions = 0;

  private readonly service: string;
  private readonly topic: T;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: AppConfig,
    private readonly options: BatchConsumerOptions<T>,
  ) {
    this.service = options.service;
    this.topic = options.topic;
    this.logger = new Logger(`${this.service}:${this.topic}`);
    this.consumer = this.create();
  }

  private create(): Consumer {
    const consumer = this.kafka.consumer(kafkajsConsumerConfig(this.config, this.service, this.topic));
    consumer.on(consumer.events.FETCH, () => this.watchdog.activity(Date.now()));
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.watchdog.activity(Date.now());
      const partitions = e.payload.memberAssignment[topicFor(this.config, this.topic)] ?? [];
      this.assignedPartitions = partitions.length;
      this.watermarks.assigned(partitions);
      this.options.onRebalance?.();
    });
    // Partitions are about to move: what is durable is committed, so their next owner replays little.
    consumer.on(consumer.events.REBALANCING, () => void this.commit());
    consumer.on(consumer.events.CRASH, (e) => {
      this.logger.error(`consumer crashed: ${String(e.payload.error)}; restart=${e.payload.restart}`);
      // kafkajs gives up on errors it does not retry; a consumer that stopped for good would
      // leave its partitions unserved while the service looks healthy. Start a new one.
      if (!e.payload.restart && this.running) setTimeout(() => void this.restart(consumer), 2000);
    });
    return consumer;
  }

  private async restart(crashed: Consumer, why = 'after a fatal crash'): Promise<void> {
    if (!this.running || crashed !== this.consumer || this.restarting) return;
    this.restarting = true;
    this.logger.warn(`restarting the consumer ${why}`);
    try {
      await crashed.disconnect().catch(() => undefined);
      this.consumer = this.create();
      await this.start();
    } catch (error) {
      this.logger.error(`consumer restart failed: ${String(error)}; trying again`);
      setTimeout(() => void this.restart(this.consumer), 5000);
    } finally {
      this.restarting = false;
      this.watchdog.activity(Date.now());
    }
  }

  private checkStalled(): void {
    // A member with no partitions (more instances than partitions) has nothing to fetch.
    if (!this.running || this.restarting || this.assignedPartitions === 0) return;
    if (this.watchdog.stalled(Date.now(), this.busy.size))
      void this.restart(this.consumer, `: nothing fetched for over ${STALL_LIMIT_MS / 1000} s`);
  }

  /**
   * Joins the group, retrying for a while: at start-up the topics may have just been created
   * by another service and have no leader yet, or the broker may be restarting.
   */
  async start(deadline = Date.now() + 120_000): Promise<void> {
    await retryUntil(
      deadline,
      () => this.startOnce(),
      async (error, attempt) => {
        this.logger.warn(`could not start consuming (attempt ${attempt}): ${String(error)}; retrying`);
        await this.consumer.disconnect().catch(() => undefined);
        this.consumer = this.create();
      },
    );
  }

  private async startOnce(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: topicFor(this.config, this.topic), fromBeginning: true });
    this.running = true;
    this.commitTimer ??= setInterval(() => void this.commit(), COMMIT_INTERVAL_MS);
    this.watchdog.activity(Date.now());
    this.watchdogTimer ??= setInterval(() => this.checkStalled(), WATCHDOG_TICK_MS);
    this.heartbeatTimer ??= setInterval(() => this.busy.heartbeat(), HEARTBEAT_INTERVAL_MS);
    await this.consumer.run({
      // Offsets are committed by commit() from the watermarks of durable batches.
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, Math.min(4, this.config.KAFKA_PARTITIONS)),
      eachBatch: (payload) =>
        this.busy.track(handleKafkajsBatch(payload, this.options.handle, this.watermarks), () =>
          payload.heartbeat(),
        ),
    });
  }

  /** Commits what is durable and not committed yet (see OffsetCommitter). */
  private commit(): Promise<void> {
    return this.committer.commit();
  }

  isRunning(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.commitTimer);
    clearInterval(this.watchdogTimer);
    clearInterval(this.heartbeatTimer);
    this.commitTimer = this.watchdogTimer = this.heartbeatTimer = undefined;
    // No new batches; those in progress finish and are committed before the group is left, so
    // whoever takes the partitions over replays nothing (disconnect() leaves the group).
    try {
      this.consumer.pause([{ topic: topicFor(this.config, this.topic) }]);
    } catch {
      // Never got to run (stopped while starting): nothing to pause.
    }
    await this.busy.settled();
    await this.commit();
    await this.consumer.disconnect();
  }
}
