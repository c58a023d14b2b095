import {
  type Consumer,
  type ConsumerOptions,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
} from '@platformatic/kafka';
import { Logger } from '@nestjs/common';
import type { AppConfig } from '@im/config';
import { CommitWatermarks } from '../commit-watermarks';
import { OffsetCommitter } from '../offset-committer';
import { ConsumerWatchdog } from '../consumer-watchdog';
import { consumerLag } from '../consumer-lag';
import type { TopicEvents, TopicName } from '../events';
import { type BatchConsumer, type BatchConsumerOptions, topicFor } from '../kafka-client';
import { retryUntil } from '../retry-until';
import { PartitionLanes } from './partition-lanes';
import { consumerOptions } from './consumer-options';
import { OutputLines } from './output-lines';
import type { PlatformaticConnection } from './platformatic-connection';

type Record = Message<string, string, string, string>;
export type StringConsumer = Consumer<string, string, string, string>;
/** Builds the library's consumer (a fake one in unit specs). */
export type ConsumerFactory = (options: ConsumerOptions<string, string, string, string>) => StringConsumer;

const COMMIT_INTERVAL_MS = 500;
const MAX_BATCH = 1000;
/** Fetched records held per consumer before the stream is paused. */
const MAX_QUEUED = 5000;
/** Silence after which the consumer asks the broker whether it is behind (and is replaced if so). */
const STALL_LIMIT_MS = 30_000;
const WATCHDOG_TICK_MS = 5_000;
/** Batches of one partition whose output may be in flight at once (pipelined hops). */
const MAX_OUTPUTS_IN_FLIGHT = 8;
/** Backoff of a batch whose handler failed: it is handed again, never skipped. */
const RETRY_STEPS_MS = [100, 250, 500, 1000];

/**
 * A topic consumer on @platformatic/kafka. The library fetches into a stream and heartbeats on
 * its own timer, so a member busy with a batch never holds a rebalance; with the `consumer`
 * group protocol (KIP-848) only the partitions that move pause. Each assigned partition has a
 * lane: its records are handed to the handler one batch at a time, in order, a failed batch
 * again until it passes, and its offset is committed from the watermark of handled batches on
 * an interval, when partitions move and before the consumer leaves.
 */
export class PlatformaticConsumer<T extends TopicName> implements BatchConsumer {
  private readonly logger: Logger;
  private consumer?: StringConsumer;
  private stream?: MessagesStream<string, string, string, string>;
  private readonly lanes = new PartitionLanes<Record>();
  private readonly watermarks = new CommitWatermarks();
  /** Partitions whose lane is being drained, with the drain's promise. */
  private readonly draining = new Map<number, Promise<void>>();
  private readonly outputs = new OutputLines(MAX_OUTPUTS_IN_FLIGHT, (partition, error) =>
    this.outputFailed(partition, error),
  );
  private running = false;
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
    this.running = true;
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
    const { revoked, added } = this.lanes.assign(assignment.partitions);
    if (revoked.length === 0 && added.length === 0) return;
    this.watermarks.assigned(assignment.partitions);
    this.watchdog.activity(Date.now());
    this.options.onRebalance?.();
  }

  private onRecord(record: Record): void {
    this.watchdog.activity(Date.now());
    if (!this.lanes.accept(record)) {
      // A partition we do not know yet (the assignment arrived with its first records).
      this.syncAssignments();
      if (!this.lanes.accept(record)) return;
    }
    if (this.lanes.queued() > MAX_QUEUED) this.stream?.pause();
    if (!this.draining.has(record.partition)) {
      const drain = this.drain(record.partition).finally(() => this.draining.delete(record.partition));
      this.draining.set(record.partition, drain);
    }
  }

  /** Hands a partition's queued records to the handler, a batch at a time, until none is left. */
  private async drain(partition: number): Promise<void> {
    // Let the rest of this fetch's records join the first batch.
    await new Promise((r) => setImmediate(r));
    while (this.running && !this.outputs.hasFailed(partition)) {
      await this.outputs.room(partition);
      const generation = this.lanes.generation(partition);
      const batch = this.lanes.take(partition, MAX_BATCH);
      if (batch.length === 0 || generation === undefined) return;
      const isStale = () => this.lanes.generation(partition) !== generation;
      const handled = await this.handleUntilDone(partition, batch, isStale);
      if (this.stream?.isPaused() && this.lanes.queued() < MAX_QUEUED / 2) this.stream.resume();
      if (!handled) return;
      const lastOffset = batch[batch.length - 1].offset.toString();
      // The batch's offset becomes committable once its output (and every earlier one) is durable.
      this.outputs.add(partition, handled === true ? undefined : handled.durable, () => {
        if (!isStale()) this.watermarks.handled(partition, lastOffset);
      });
    }
  }

  /** The handler already handed on the batches after it: consume again from the last commit. */
  private outputFailed(partition: number, error: unknown): void {
    this.logger.warn(
      `output of partition ${partition} failed: ${String(error)}; consuming again from the last commit`,
    );
    const consumer = this.consumer;
    if (consumer) void this.restart(consumer, `after the output of partition ${partition} failed`);
  }

  /**
   * True when the batch was handled, its output queued when the handler said so (`durable`),
   * false when abandoned, its partition moved, or the consumer stopped while it failed.
   */
  private async handleUntilDone(
    partition: number,
    batch: Record[],
    isStale: () => boolean,
  ): Promise<boolean | { durable: Promise<void> }> {
    const events = batch.map((m) => JSON.parse(m.value) as TopicEvents[T]);
    const lag = this.lanes.queuedIn(partition);
    for (let attempt = 0; ; attempt++) {
      // A batch that keeps failing is given up when the consumer stops: not committed, so replayed.
      if (isStale() || (attempt > 0 && !this.running)) return false;
      try {
        const outcome = await this.options.handle({ partition, events, isStale, lag });
        consumerLag.set({ topic: this.topic, partition: String(partition) }, lag);
        if (outcome === 'abandoned') return false;
        return outcome ?? true;
      } catch (error) {
        this.logger.warn(
          `batch of partition ${partition} failed (attempt ${attempt + 1}): ${String(error)}; again`,
        );
        await new Promise((r) => setTimeout(r, RETRY_STEPS_MS[Math.min(attempt, RETRY_STEPS_MS.length - 1)]));
      }
    }
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
    if (!this.running || this.restarting || !consumer) return;
    if (!this.watchdog.stalled(Date.now(), this.draining.size + this.lanes.queued())) return;
    const partitions = this.lanes.partitions();
    const ends = await consumer.listOffsets({ topics: [this.topic] }).catch(() => undefined);
    const end = ends?.get(this.topic);
    if (!end) return;
    const fetchFrom = this.stream?.offsetsToFetch;
    const behind = partitions.filter((p) => {
      const from = this.lanes.fetchedUpTo(p) ?? fetchFrom?.get(`${this.topic}:${p}`);
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
    return this.running;
  }

  /** No new batches; those in progress finish and are committed, then the group is left. */
  private async leave(): Promise<void> {
    this.running = false;
    this.stream?.pause();
    await Promise.allSettled([...this.draining.values()]);
    // What is in flight becomes durable or fails; either way the watermark is final.
    await this.outputs.settled();
    await this.commit();
    await this.stream?.close().catch(() => undefined);
    await this.consumer?.close().catch(() => undefined);
    this.lanes.assign([]);
    this.watermarks.assigned([]);
    this.outputs.clear();
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
