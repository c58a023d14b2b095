import { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { Logger } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { CommitWatermarks } from '../commit-watermarks';
import { OffsetCommitter } from '../offset-committer';
import { ConsumerWatchdog } from '../consumer-watchdog';
import { TopicEvents, TopicName } from '../events';
import { BatchConsumer, BatchConsumerOptions, groupFor, topicFor } from '../kafka-client';
import { consumerLag } from '../consumer-lag';
import { retryUntil } from '../retry-until';

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
  /**
   * Batches being handled, with when they started and how to heartbeat for them: stop() lets
   * them finish and commits them before leaving, and one timer heartbeats while any is young.
   */
  private readonly inFlight = new Map<Promise<void>, { startedAt: number; heartbeat: () => Promise<void> }>();
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
    const consumer = this.kafka.consumer({
      groupId: groupFor(this.config, `${this.service}.${this.topic}`),
      sessionTimeout: this.config.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      rebalanceTimeout: 20000,
      maxWaitTimeInMs: this.config.KAFKA_FETCH_MAX_WAIT_MS,
      allowAutoTopicCreation: false,
      // Short steps: after a broker restart the group rejoins within a second of it answering.
      retry: { initialRetryTime: 200, maxRetryTime: 1000, retries: 60 },
    });
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
    if (this.watchdog.stalled(Date.now(), this.inFlight.size))
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
    this.heartbeatTimer ??= setInterval(() => this.heartbeatWhileBusy(), HEARTBEAT_INTERVAL_MS);
    await this.consumer.run({
      // Offsets are committed by commit() from the watermarks of durable batches.
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: Math.max(1, Math.min(4, this.config.KAFKA_PARTITIONS)),
      eachBatch: (payload) => this.tracked(payload),
    });
  }

  private async tracked(payload: EachBatchPayload): Promise<void> {
    const batch = this.onBatch(payload);
    this.inFlight.set(batch, { startedAt: Date.now(), heartbeat: () => payload.heartbeat() });
    try {
      await batch;
    } finally {
      this.inFlight.delete(batch);
    }
  }

  /**
   * kafkajs heartbeats only between batches: with a short session timeout, a batch that waits
   * for a restarting dependency would get its consumer thrown out of the group. One heartbeat
   * serves the whole consumer; a rebalance shows here as an error, which kafkajs's own next
   * heartbeat acts on.
   */
  private heartbeatWhileBusy(): void {
    const now = Date.now();
    for (const batch of this.inFlight.values())
      if (now - batch.startedAt <= BUSY_HEARTBEAT_LIMIT_MS) {
        batch.heartbeat().catch(() => undefined);
        return;
      }
  }

  /** Commits what is durable and not committed yet (see OffsetCommitter). */
  private commit(): Promise<void> {
    return this.committer.commit();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const events = batch.messages.map((m) => JSON.parse(m.value?.toString() ?? 'null') as TopicEvents[T]);
    // A failing handler throws: kafkajs then retries the same batch, and nothing is committed.
    const behind = Number(batch.offsetLag());
    const outcome = await this.options.handle({
      partition: batch.partition,
      events,
      isStale: () => payload.isStale(),
      lag: behind,
    });
    if (outcome === 'abandoned') return;
    // kafkajs hands one batch at a time anyway: a queued output is waited for here.
    if (outcome) await outcome.durable;
    consumerLag.set({ topic: batch.topic, partition: String(batch.partition) }, behind);
    // Resolving moves kafkajs's fetch position; the watermark makes the offset eligible for the
    // next commit, unless the partition moved meanwhile (its new owner's progress is its own).
    payload.resolveOffset(batch.lastOffset());
    if (!payload.isStale()) this.watermarks.handled(batch.partition, batch.lastOffset());
    await payload.heartbeat();
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
    await Promise.allSettled([...this.inFlight.keys()]);
    await this.commit();
    await this.consumer.disconnect();
  }
}
