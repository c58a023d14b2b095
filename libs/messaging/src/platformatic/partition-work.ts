import { setTraceparent } from '@im/tracing';
import type { Logger } from '@nestjs/common';
import type { Message } from '@platformatic/kafka';
import type { CommitWatermarks } from '../commit-watermarks';
import { consumerLag } from '../consumer-lag';
import type { TopicEvents, TopicName } from '../events';
import type { BatchConsumerOptions } from '../kafka-client';
import { OutputLines } from './output-lines';
import { PartitionLanes } from './partition-lanes';

export type Record = Message<string, string, string, string>;

const MAX_BATCH = 1000;
/** Fetched records held per consumer before the stream is paused. */
export const MAX_QUEUED = 5000;
/** Batches of one partition whose output may be in flight at once (pipelined hops). */
const MAX_OUTPUTS_IN_FLIGHT = 8;
/** Backoff of a batch whose handler failed: it is handed again, never skipped. */
const RETRY_STEPS_MS = [100, 250, 500, 1000];

/** The fetch stream as the work sees it: paused while too much is queued. */
export interface FetchFlow {
  pause(): void;
  resume(): void;
  isPaused(): boolean;
}

/**
 * What a consumer does with the records it fetched: each assigned partition has a lane; its
 * records go to the handler one batch at a time, in order, a failed batch again until it
 * passes; a batch's output may still be in flight while the next batch is handled
 * (OutputLines), and its offset becomes committable (the watermark) once it is durable.
 */
export class PartitionWork<T extends TopicName> {
  readonly lanes = new PartitionLanes<Record>();
  /** Partitions whose lane is being drained, with the drain's promise. */
  private readonly draining = new Map<number, Promise<void>>();
  private readonly outputs: OutputLines;
  /** False while the consumer stops or restarts: no new batches, a failing one is given up. */
  running = false;

  constructor(
    private readonly topic: string,
    private readonly handle: BatchConsumerOptions<T>['handle'],
    private readonly watermarks: CommitWatermarks,
    private readonly flow: () => FetchFlow | undefined,
    private readonly logger: Logger,
    onOutputFailed: (partition: number, error: unknown) => void,
  ) {
    this.outputs = new OutputLines(MAX_OUTPUTS_IN_FLIGHT, onOutputFailed);
  }

  /** Queues a fetched record; false when its partition is not assigned (as far as the lanes know). */
  accept(record: Record): boolean {
    if (!this.lanes.accept(record)) return false;
    if (this.lanes.queued() > MAX_QUEUED) this.flow()?.pause();
    if (!this.draining.has(record.partition)) {
      const drain = this.drain(record.partition).finally(() => this.draining.delete(record.partition));
      this.draining.set(record.partition, drain);
    }
    return true;
  }

  /** Follows the consumer's assignment (revoked partitions lose their lanes and watermarks); true when it changed. */
  assign(partitions: number[]): boolean {
    const { revoked, added } = this.lanes.assign(partitions);
    if (revoked.length === 0 && added.length === 0) return false;
    this.watermarks.assigned(partitions);
    return true;
  }

  /** Batches queued or being handled (the watchdog's measure of work in progress). */
  inProgress(): number {
    return this.draining.size + this.lanes.queued();
  }

  /** Settles once the batches in progress and their outputs are done (or failed). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.draining.values()]);
    await this.outputs.settled();
  }

  /** Forgets every partition (after leaving the group). */
  reset(): void {
    this.lanes.assign([]);
    this.watermarks.assigned([]);
    this.outputs.clear();
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
      const flow = this.flow();
      if (flow?.isPaused() && this.lanes.queued() < MAX_QUEUED / 2) flow.resume();
      if (!handled) return;
      const lastOffset = batch[batch.length - 1].offset.toString();
      // The batch's offset becomes committable once its output (and every earlier one) is durable.
      this.outputs.add(partition, handled === true ? undefined : handled.durable, () => {
        if (!isStale()) this.watermarks.handled(partition, lastOffset);
      });
    }
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
    const events = batch.map((m) =>
      setTraceparent(JSON.parse(m.value) as TopicEvents[T], m.headers?.get('traceparent')),
    );
    const lag = this.lanes.queuedIn(partition);
    for (let attempt = 0; ; attempt++) {
      // A batch that keeps failing is given up when the consumer stops: not committed, so replayed.
      if (isStale() || (attempt > 0 && !this.running)) return false;
      try {
        const outcome = await this.handle({ partition, events, isStale, lag });
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
}
