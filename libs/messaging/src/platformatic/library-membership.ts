import type { Logger } from '@nestjs/common';
import {
  type Consumer,
  findErrorBy,
  type ConsumerOptions,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
} from '@platformatic/kafka';
import type { PartitionOffset } from '../commit-watermarks';
import type { FetchFlow, Record } from './partition-work';
import type { GroupPositions } from './stall-judge';
import { TimedOutError, withTimeout } from '../with-timeout';

/** The library's consumer of string keys and values. */
export type StringConsumer = Consumer<string, string, string, string>;
/** Builds the library's consumer (a fake one in unit specs). */
export type ConsumerFactory = (options: ConsumerOptions<string, string, string, string>) => StringConsumer;

/** What the adapter hears of the group and the stream. */
export interface MembershipListener {
  /** Partitions are about to move. */
  rebalancing(): void;
  /** A join or a heartbeat may have brought a new assignment. */
  assignmentMayHaveChanged(): void;
  record(record: Record): void;
  streamFailed(error: unknown): void;
  /** The group coordinator no longer knows this member: it must join again. */
  forgotten(): void;
}

/**
 * One membership of the group through the library: its consumer and its fetch stream, for
 * one topic. Errors the library retries itself are only logged, never left to crash the process.
 */
export class LibraryMembership {
  private stream?: MessagesStream<string, string, string, string>;
  /** The coordinator answered UNKNOWN_MEMBER_ID: this member is not in the group any more. */
  private forgotten = false;

  constructor(
    private readonly consumer: StringConsumer,
    private readonly topic: string,
    logger: Logger,
    private readonly listener: MembershipListener,
  ) {
    consumer.on('consumer:group:rebalance', () => listener.rebalancing());
    consumer.on('consumer:group:join', () => listener.assignmentMayHaveChanged());
    consumer.on('consumer:heartbeat:end', () => listener.assignmentMayHaveChanged());
    consumer.on('consumer:heartbeat:error', (e) => {
      logger.debug(`heartbeat failed: ${String(e.error)}`);
      // KIP-848: a member the coordinator no longer knows must join again with epoch 0. The
      // library does so when fenced, but on UNKNOWN_MEMBER_ID (a broker back after longer than
      // the session) it heartbeats the old id forever while still fetching its old partitions.
      if (!findErrorBy(e.error, 'apiId', 'UNKNOWN_MEMBER_ID')) return;
      this.forgotten = true;
      listener.forgotten();
    });
    consumer.on('error', (error: unknown) => logger.warn(`consumer error: ${String(error)}`));
  }

  /** Joins and fetches from the committed offsets (the earliest where none is). */
  async open(): Promise<void> {
    const stream = await this.consumer.consume({
      topics: [this.topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
    });
    this.stream = stream;
    stream.on('data', (record: Record) => this.listener.record(record));
    stream.on('error', (error: unknown) => this.listener.streamFailed(error));
  }

  /** The fetch stream, paused and resumed by the work's back-pressure. */
  flow(): FetchFlow | undefined {
    return this.stream;
  }

  /** The topic's partitions assigned to this member, when the library knows them. */
  assigned(): number[] | undefined {
    return this.consumer.assignments?.find((a) => a.topic === this.topic)?.partitions;
  }

  /** Commits `offsets` (no leader epoch is known here). */
  commit(offsets: PartitionOffset[]): Promise<unknown> {
    const topic = this.topic;
    return this.consumer.commit({
      offsets: offsets.map((o) => ({
        topic,
        partition: o.partition,
        offset: BigInt(o.offset),
        leaderEpoch: -1,
      })),
    });
  }

  /** The topic's partition ends and the group's committed offsets; undefined when the broker did not answer. */
  async positions(): Promise<GroupPositions | undefined> {
    try {
      const ends = (await this.consumer.listOffsets({ topics: [this.topic] })).get(this.topic);
      if (!ends) return undefined;
      const partitions = ends.map((_, p) => p);
      const committed = (
        await this.consumer.listCommittedOffsets({ topics: [{ topic: this.topic, partitions }] })
      ).get(this.topic);
      return committed && { ends, committed: partitions.map((p) => committed[p] ?? -1n) };
    } catch {
      return undefined;
    }
  }

  /** Where the fetch stream goes on in `partition`, when it knows. */
  nextFetch(partition: number): bigint | undefined {
    return this.stream?.offsetsToFetch?.get(`${this.topic}:${partition}`);
  }

  pause(): void {
    this.stream?.pause();
  }

  /**
   * Leaves the group. `force` skips the library's graceful leave (a join that never completed);
   * so does a member the coordinator forgot, which has nothing to leave. A graceful leave the
   * broker does not answer (the library retries it for about a minute) gives way to a forced one.
   */
  async close(force = false): Promise<void> {
    await settledWithin(this.stream?.close(), CLOSE_PATIENCE_MS);
    const skipLeave = force || this.forgotten;
    if (!(await settledWithin(this.consumer.close(skipLeave), CLOSE_PATIENCE_MS)) && !skipLeave)
      await settledWithin(this.consumer.close(true), CLOSE_PATIENCE_MS);
    this.stream = undefined;
  }
}

const CLOSE_PATIENCE_MS = 5_000;

/** True when `work` settled (either way) within `ms`. */
const settledWithin = (work: Promise<unknown> | undefined, ms: number): Promise<boolean> =>
  work
    ? withTimeout(work, ms).then(
        () => true,
        (error: unknown) => !(error instanceof TimedOutError),
      )
    : Promise.resolve(true);
