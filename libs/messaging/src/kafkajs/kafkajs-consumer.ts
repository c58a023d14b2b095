import { Consumer, Kafka } from 'kafkajs';
import { Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { CommitWatermarks } from '../commit-watermarks';
import { OffsetCommitter } from '../offset-committer';
import { ConsumerSupervisor, type GroupMember, STALL_LIMIT_MS } from '../consumer-supervisor';
import { TopicName } from '../events';
import { BatchConsumer, BatchConsumerOptions, topicFor } from '../kafka-client';
import { BusyBatches } from './busy-batches';
import { kafkajsConsumerConfig } from './consumer-config';
import { listenToGroup } from './group-events';
import { handleKafkajsBatch } from './handle-batch';

const HEARTBEAT_INTERVAL_MS = 1000;
/**
 * A batch still being handled keeps its consumer in the group this long at most (heartbeats
 * from a timer); past it, the broker's failure detection takes over, so a handler stuck for
 * good does not hold its partitions for good.
 */
const BUSY_HEARTBEAT_LIMIT_MS = 60_000;

/**
 * Consumes one topic in batches, one partition's batch at a time per partition, and commits
 * a batch's offsets only after the handler resolved, i.e. after its output is durable: every
 * COMMIT_INTERVAL_MS, when a rebalance starts and before the consumer leaves, never per batch
 * (kafkajs's own auto-commit sends an offset commit after every batch, whatever its interval
 * says: at low rates one broker round trip per message and hop). A crash before the commit
 * replays the batch, so every handler is idempotent.
 */
export class KafkajsConsumer<T extends TopicName> implements BatchConsumer, GroupMember {
  private consumer: Consumer;
  private readonly logger: Logger;
  private running = false;
  private readonly watermarks = new CommitWatermarks();
  private readonly committer = new OffsetCommitter(
    this.watermarks,
    (offsets) => this.consumer.commitOffsets(offsets.map((o) => ({ topic: this.topic, ...o }))),
    // Not fatal: a rebalance or a broker restart; the next owner replays from the last commit.
    (error) => this.logger.debug(`offset commit failed: ${String(error)}`),
  );
  /** Batches being handled: stop() lets them finish and commits them before leaving. */
  private readonly busy = new BusyBatches(BUSY_HEARTBEAT_LIMIT_MS);
  private readonly supervisor: ConsumerSupervisor;
  /** Partitions of the topic this consumer was given at its last join (none: nothing to fetch). */
  private assignedPartitions = 0;
  /** The topic's name on the broker. */
  private readonly topic: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: AppConfig,
    private readonly options: BatchConsumerOptions<T>,
  ) {
    this.topic = topicFor(config, options.topic);
    this.logger = new Logger(`${options.service}:${options.topic}`);
    this.consumer = this.create();
    this.supervisor = new ConsumerSupervisor(this, this.logger, {
      commit: () => this.committer.commit(),
      checkStalled: () => this.checkStalled(),
      more: [{ everyMs: HEARTBEAT_INTERVAL_MS, run: () => this.busy.heartbeat() }],
    });
  }

  private create(): Consumer {
    const consumer = this.kafka.consumer(
      kafkajsConsumerConfig(this.config, this.options.service, this.options.topic),
    );
    return listenToGroup(consumer, this.topic, {
      fetched: () => this.supervisor.watchdog.activity(Date.now()),
      joined: (partitions) => {
        this.supervisor.watchdog.activity(Date.now());
        this.assignedPartitions = partitions.length;
        this.watermarks.assigned(partitions);
        this.options.onRebalance?.();
      },
      // Partitions are about to move: what is durable is committed, so their next owner replays little.
      rebalancing: () => void this.committer.commit(),
      // A consumer that stopped for good would leave its partitions unserved while the service looks healthy.
      crashedForGood: (error) => {
        this.logger.error(`consumer crashed for good: ${String(error)}; starting a new one`);
        setTimeout(() => this.restart(consumer), 2000);
      },
    });
  }

  /** Only the member that crashed is replaced: a later one may already stand in its place. */
  private restart(crashed: Consumer, why = 'after a fatal crash'): void {
    if (this.running && crashed === this.consumer) void this.supervisor.restart(why);
  }

  private checkStalled(): void {
    // A member with no partitions (more instances than partitions) has nothing to fetch.
    if (!this.running || this.supervisor.isRestarting() || this.assignedPartitions === 0) return;
    if (this.supervisor.watchdog.stalled(Date.now(), this.busy.size))
      this.restart(this.consumer, `: nothing fetched for over ${STALL_LIMIT_MS / 1000} s`);
  }

  start(deadline?: number): Promise<void> {
    return this.supervisor.start(deadline);
  }

  async join(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    this.running = true;
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

  /** A crashed or half-joined member is dropped for a fresh one. */
  async abandon(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
    this.consumer = this.create();
  }

  leave(): Promise<void> {
    return this.abandon();
  }

  isRunning(): boolean {
    return this.running;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.supervisor.stop();
    // No new batches; those in progress finish and are committed before the group is left, so
    // whoever takes the partitions over replays nothing (disconnect() leaves the group).
    try {
      this.consumer.pause([{ topic: this.topic }]);
    } catch {
      // Never got to run (stopped while starting): nothing to pause.
    }
    await this.busy.settled();
    await this.committer.commit();
    await this.consumer.disconnect();
  }
}
