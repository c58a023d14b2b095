import {
  type Consumer,
  type ConsumerOptions,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
} from '@platformatic/kafka';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@im/config';
import { CommitWatermarks } from '../commit-watermarks';
import { OffsetCommitter } from '../offset-committer';
import { ConsumerWatchdog } from '../consumer-watchdog';
import type { TopicName } from '../events';
import { type BatchConsumer, type BatchConsumerOptions, topicFor } from '../kafka-client';
import { retryUntil } from '../retry-until';
import { consumerOptions } from './consumer-options';
import { PartitionWork, type Record } from './partition-work';
import type { PlatformaticConnection } from './platformatic-connection';

export type StringConsumer = Consumer<string, string, string, string>;
/** Builds the library's consumer (a fake one in unit specs). */
export type ConsumerFactory = (options: ConsumerOptions<string, string, string, string>) => StringConsumer;

const COMMIT_INTERVAL_MS = 500;
/** Silence after which the consumer asks the broker whether it is behind (and is replaced if so). */
const STALL_LIMIT_MS = 30_000;
const WATCHDOG_TICK_MS = 5_000;

/**
 * A topic consumer on @platformatic/kafka: the group membership, the fetch stream, commits and
 * restarts; what happens to the records is PartitionWork's. The library heartbeats on its own
 * timer, so a member busy with a batch never holds a rebalance; with the `consumer` group
 * protocol (KIP-848) only the partitions that move pause. Offsets are committed from the
 * watermark of durable batches on an interval, when partitions move and before leaving.
 */
export class PlatformaticConsumer<T extends TopicName> implements BatchConsumer {
  private readonly logger: Logger;
  private consumer?: StringConsumer;
  private stream?: MessagesStream<string, string, string, string>;
  private readonly watermarks = new CommitWatermarks();
  private readonly work: PartitionWork<T>;
  /** stop() was called: nothing restarts the consumer any more. */
  private stopped = false;
  private restarting = false;
  private commitTimer?: NodeJS.Timeout;
  private readonly committer = new OffsetCommitter(
    this.watermarks,
    (offsets) =>
      this.consumer!.commit({
        offsets: offsets.map((o) => ({
          topic: this.topic,
          partition: o.partition,
          offset: BigInt(o.offset),
          leaderEpoch: -1,
        })),
      }),
    (error) => this.logger.debug(`offset commit failed: ${String(error)}`),
  );
  private readonly watchdog = new ConsumerWatchdog(STALL_LIMIT_MS, Date.now());
  private watchdogTimer?: NodeJS.Timeout;
  private readonly topic: string;

  constructor(
    private readonly connection: PlatformaticConnection,
    private readonly config: AppConfig,
    private readonly options: BatchConsumerOptions<T>,
    private readonly createConsumer: ConsumerFactory,
  ) {
    this.topic = topicFor(config, options.topic);
    this.logger = new Logger(`${options.service}:${options.topic}`);
    this.work = new PartitionWork(
      this.topic,
      options.handle,
      this.watermarks,
      () => this.stream,
      this.logger,
      (partition, error) => this.outputFailed(partition, error),
    );
  }

  private create(): StringConsumer {
    const consumer = this.createConsumer(
      consumerOptions(this.connection, this.config, this.options.service, this.options.topic),
    );
    // Partitions are about to move: what is durable is committed, so their next owner replays little.
    consumer.on('consumer:group:rebalance', () => {
      void this.commit();
      this.syncAssignments();
    });
    consumer.on('consumer:group:join', () => this.syncAssignments());
    consumer.on('consumer:heartbeat:end', () => this.syncAssignments());
    consumer.on('consumer:heartbeat:error', (e) => this.logger.debug(`heartbeat failed: ${String(e.error)}`));
    // An 'error' with no listener would crash the process; the library retries group errors itself.
    consumer.on('error', (error: unknown) => this.logger.warn(`consumer error: ${String(error)}`));
    return consumer;
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
        await this.consumer?.close(true).catch(() => undefined);
      },
    );
  }

  private async startOnce(): Promise<void> {
    const consumer = (this.consumer = this.create());
    const stream = await consumer.consume({
      topics: [this.topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
    });
    this.stream = stream;
    this.work.running = true;
    stream.on('data', (record: Record) => this.onRecord(record));
    stream.on('error', (error: unknown) => {
      this.logger.error(`consumer stream failed: ${String(error)}`);
      setTimeout(() => void this.restart(consumer, 'after its stream failed'), 1000);
    });
    this.syncAssignments();
    this.commitTimer ??= setInterval(() => void this.commit(), COMMIT_INTERVAL_MS);
    this.watchdog.activity(Date.now());
    this.watchdogTimer ??= setInterval(() => void this.checkStalled(), WATCHDOG_TICK_MS);
  }

  /** Follows the consumer's assignment: revoked partitions lose their lanes and watermarks. */
  private syncAssignments(): void {
    const assignment = this.consumer?.assignments?.find((a) => a.topic === this.topic);
    if (!assignment) return;
    const { revoked, added } = this.work.lanes.assign(assignment.partitions);
    if (revoked.length === 0 && added.length === 0) return;
    this.watermarks.assigned(assignment.partitions);
    this.watchdog.activity(Date.now());
    this.options.onRebalance?.();
  }

  private onRecord(record: Record): void {
    this.watchdog.activity(Date.now());
    if (this.work.accept(record)) return;
    // A partition we do not know yet (the assignment arrived with its first records).
    this.syncAssignments();
    this.work.accept(record);
  }

  /** The handler already handed on the batches after it: consume again from the last commit. */
  private outputFailed(partition: number, error: unknown): void {
    this.logger.warn(
      `output of partition ${partition} failed: ${String(error)}; consuming again from the last commit`,
    );
    const consumer = this.consumer;
    if (consumer) void this.restart(consumer, `after the output of partition ${partition} failed`);
  }

  /** Commits what is durable and not committed yet (see OffsetCommitter). */
  private commit(): Promise<void> {
    return this.consumer ? this.committer.commit() : Promise.resolve();
  }

  /**
   * After a long silence with nothing in progress, asks the broker for the partitions' ends: a
   * consumer with records left to fetch that fetches nothing is stuck, and is replaced.
   */
  private async checkStalled(): Promise<void> {
    const consumer = this.consumer;
    if (!this.work.running || this.restarting || !consumer) return;
    if (!this.watchdog.stalled(Date.now(), this.work.inProgress())) return;
    const partitions = this.work.lanes.partitions();
    const ends = await consumer.listOffsets({ topics: [this.topic] }).catch(() => undefined);
    const end = ends?.get(this.topic);
    if (!end) return;
    const fetchFrom = this.stream?.offsetsToFetch;
    const behind = partitions.filter((p) => {
      const from = this.work.lanes.fetchedUpTo(p) ?? fetchFrom?.get(`${this.topic}:${p}`);
      return from !== undefined && end[p] > from;
    });
    if (behind.length === 0) return this.watchdog.activity(Date.now());
    await this.restart(
      consumer,
      `: partitions ${behind.join(',')} are behind and nothing was fetched for over ${STALL_LIMIT_MS / 1000} s`,
    );
  }

  private async restart(stuck: StringConsumer, why: string): Promise<void> {
    // Not `running`: a restart that failed left it false, and must be tried again.
    if (this.stopped || stuck !== this.consumer || this.restarting) return;
    this.restarting = true;
    this.logger.warn(`restarting the consumer ${why}`);
    try {
      await this.leave();
      await this.start();
    } catch (error) {
      this.logger.error(`consumer restart failed: ${String(error)}; trying again`);
      setTimeout(() => void this.restart(this.consumer!, why), 5000);
    } finally {
      this.restarting = false;
      this.watchdog.activity(Date.now());
    }
  }

  isRunning(): boolean {
    return this.work.running;
  }

  /** No new batches; those in progress finish and are committed, then the group is left. */
  private async leave(): Promise<void> {
    this.work.running = false; // the work takes no new batches
    this.stream?.pause();
    // What is in flight becomes durable or fails; either way the watermark is final.
    await this.work.settled();
    await this.commit();
    await this.stream?.close().catch(() => undefined);
    await this.consumer?.close().catch(() => undefined);
    this.work.reset();
    this.watermarks.assigned([]);
    this.stream = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.commitTimer);
    clearInterval(this.watchdogTimer);
    this.commitTimer = this.watchdogTimer = undefined;
    await this.leave();
  }
}
