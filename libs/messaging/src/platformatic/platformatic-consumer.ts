import { Logger } from '@nestjs/common';
import type { AppConfig } from '@im/config';
import { CommitWatermarks } from '../commit-watermarks';
import { OffsetCommitter } from '../offset-committer';
import { ConsumerSupervisor, type GroupMember, STALL_LIMIT_MS } from '../consumer-supervisor';
import type { TopicName } from '../events';
import { type BatchConsumer, type BatchConsumerOptions, topicFor } from '../kafka-client';
import { consumerOptions } from './consumer-options';
import { type ConsumerFactory, LibraryMembership } from './library-membership';
import { PartitionWork, type Record } from './partition-work';
import type { PlatformaticConnection } from './platformatic-connection';
import { StallJudge } from './stall-judge';

export type { ConsumerFactory, StringConsumer } from './library-membership';

/**
 * A topic consumer on @platformatic/kafka. The library's consumer and stream are the
 * membership's, what happens to the records is PartitionWork's, start and restarts are the
 * supervisor's; this class ties them together and commits. The library heartbeats on its own
 * timer, so a member busy with a batch never holds a rebalance; with the `consumer` group
 * protocol (KIP-848) only the partitions that move pause. Offsets are committed from the
 * watermark of durable batches on an interval, when partitions move and before leaving.
 */
export class PlatformaticConsumer<T extends TopicName> implements BatchConsumer, GroupMember {
  private readonly logger: Logger;
  private membership?: LibraryMembership;
  private readonly watermarks = new CommitWatermarks();
  private readonly work: PartitionWork<T>;
  private readonly committer: OffsetCommitter;
  private readonly supervisor: ConsumerSupervisor;
  private readonly topic: string;
  private readonly stallJudge = new StallJudge();

  constructor(
    private readonly connection: PlatformaticConnection,
    private readonly config: AppConfig,
    private readonly options: BatchConsumerOptions<T>,
    private readonly createConsumer: ConsumerFactory,
  ) {
    this.topic = topicFor(config, options.topic);
    this.logger = new Logger(`${options.service}:${options.topic}`);
    const flow = () => this.membership?.flow();
    this.work = new PartitionWork(this.topic, options.handle, this.watermarks, flow, this.logger, (p, e) =>
      this.outputFailed(p, e),
    );
    this.committer = new OffsetCommitter(
      this.watermarks,
      (offsets) => this.membership!.commit(offsets),
      (error) => this.logger.debug(`offset commit failed: ${String(error)}`),
    );
    this.supervisor = new ConsumerSupervisor(this, this.logger, {
      commit: () => this.committer.commit(),
      checkStalled: () => this.checkStalled(),
    });
  }

  start(deadline?: number): Promise<void> {
    return this.supervisor.start(deadline);
  }

  async join(): Promise<void> {
    const options = consumerOptions(this.connection, this.config, this.options.service, this.options.topic);
    const membership: LibraryMembership = new LibraryMembership(
      this.createConsumer(options),
      this.topic,
      this.logger,
      {
        // Partitions are about to move: what is durable is committed, so their next owner replays little.
        rebalancing: () => {
          void this.committer.commit();
          this.syncAssignments();
        },
        assignmentMayHaveChanged: () => this.syncAssignments(),
        record: (record) => this.onRecord(record),
        forgotten: () =>
          this.restart(
            membership,
            'because the group coordinator no longer knows this member (UNKNOWN_MEMBER_ID)',
          ),
        streamFailed: (error) => {
          this.logger.error(`consumer stream failed: ${String(error)}`);
          setTimeout(() => this.restart(membership, 'after its stream failed'), 1000);
        },
      },
    );
    this.membership = membership;
    await membership.open();
    this.work.running = true;
    this.syncAssignments();
  }

  async abandon(): Promise<void> {
    await this.membership?.close(true);
  }

  private syncAssignments(): void {
    const partitions = this.membership?.assigned();
    if (!partitions || !this.work.assign(partitions)) return;
    this.supervisor.watchdog.activity(Date.now());
    this.options.onRebalance?.();
  }

  private onRecord(record: Record): void {
    this.supervisor.watchdog.activity(Date.now());
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
    if (this.membership) this.restart(this.membership, `after the output of partition ${partition} failed`);
  }

  /** After a long silence with nothing in progress, a member that is stuck rather than idle is replaced. */
  private async checkStalled(): Promise<void> {
    const membership = this.membership;
    if (!this.work.running || this.supervisor.isRestarting() || !membership) return;
    if (!this.supervisor.watchdog.stalled(Date.now(), this.work.inProgress())) return;
    const positions = await membership.positions();
    // Once per streak of unanswered checks.
    if (!positions && !this.stallJudge.waitingForAnswer())
      this.logger.warn('the broker did not answer the stall check');
    const lanes = this.work.lanes;
    const fetchFrom = (p: number) => lanes.fetchedUpTo(p) ?? membership.nextFetch(p);
    const why = this.stallJudge.judge(Date.now(), lanes.partitions(), fetchFrom, positions);
    if (why)
      return this.restart(
        membership,
        `because ${why}; nothing was fetched for over ${STALL_LIMIT_MS / 1000} s`,
      );
    // Idle, not stuck: the next check comes after another full silence. Unanswered, it comes soon.
    if (positions) this.supervisor.watchdog.activity(Date.now());
  }

  /** Only the member that got stuck is replaced: a later one may already stand in its place. */
  private restart(stuck: LibraryMembership, why: string): void {
    if (stuck === this.membership) void this.supervisor.restart(why);
  }

  isRunning(): boolean {
    return this.work.running;
  }

  /** No new batches; those in progress finish and are committed, then the group is left. */
  async leave(): Promise<void> {
    this.work.running = false;
    this.membership?.pause();
    // What is in flight becomes durable or fails; either way the watermark is final.
    await this.work.settled();
    await this.committer.commit();
    await this.membership?.close();
    this.work.reset();
  }

  async stop(): Promise<void> {
    this.supervisor.stop();
    await this.leave();
  }
}
