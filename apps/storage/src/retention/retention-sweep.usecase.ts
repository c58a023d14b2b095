import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppConfig } from '@im/config';
import { metrics } from '@im/metrics';
import { batchEndedHead, sweepCutoff } from './retention-policy';
import { RetentionRepository, type SweepConnection } from './retention.repository';
import { SweepLock } from './sweep-lock';

const deletedRows = metrics.counter(
  'im_retention_deleted_rows_total',
  'Rows deleted by the retention sweep, by table (messages, message_reactions, hidden_messages)',
);
const runs = metrics.counter(
  'im_retention_runs_total',
  'Retention sweeps by outcome: done, stopped (shutdown), busy (another replica held the lock), failed',
);
const lastRun = metrics.gauge(
  'im_retention_last_run_timestamp_seconds',
  'End of the last complete retention sweep of this replica (Unix time)',
);
const lastDuration = metrics.gauge(
  'im_retention_last_run_duration_seconds',
  'Duration of the last complete retention sweep of this replica',
);

/** Conversations listed per read. */
const PAGE = 500;

export interface SweepReport {
  outcome: 'done' | 'stopped' | 'busy';
  /** Conversations that had something to delete. */
  conversations: number;
  messages: number;
  reactions: number;
  hidden: number;
  /** Delete statements run. */
  batches: number;
}

/**
 * One retention sweep (docs/protocol.md §5.7): under the sweep lock, every conversation whose
 * oldest message is past its retention loses its expired messages, a batch of at most
 * RETENTION_BATCH_SIZE per statement with RETENTION_BATCH_PAUSE_MS between statements, so
 * sends never wait on it.
 */
@Injectable()
export class RetentionSweepUseCase {
  constructor(
    private readonly lock: SweepLock,
    private readonly repository: RetentionRepository,
    private readonly config: AppConfig,
  ) {}

  /** `shouldStop` is asked between statements: a shutdown ends the sweep early. */
  async execute(now: number = Date.now(), shouldStop: () => boolean = () => false): Promise<SweepReport> {
    const started = performance.now();
    let held: { result: SweepReport } | 'busy';
    try {
      held = await this.lock.whileHeld((db) => this.sweep(db, now, shouldStop));
    } catch (error) {
      runs.inc({ outcome: 'failed' });
      throw error;
    }
    const report = held === 'busy' ? { ...empty(), outcome: 'busy' as const } : held.result;
    runs.inc({ outcome: report.outcome });
    if (report.outcome === 'done') {
      lastRun.set({}, Math.round(Date.now() / 1000));
      lastDuration.set({}, (performance.now() - started) / 1000);
    }
    return report;
  }

  private async sweep(db: SweepConnection, now: number, shouldStop: () => boolean): Promise<SweepReport> {
    const report = empty();
    const deploymentDays = this.config.RETENTION_DAYS;
    let after = '';
    for (;;) {
      if (shouldStop()) return { ...report, outcome: 'stopped' };
      const page = await this.repository.candidates(db, after, PAGE, deploymentDays === undefined);
      for (const candidate of page) {
        const cutoff = sweepCutoff(candidate, deploymentDays, now);
        if (cutoff === null) continue;
        report.conversations++;
        const ended = await this.sweepConversation(
          db,
          candidate.conversationId,
          new Date(cutoff),
          report,
          shouldStop,
        );
        if (ended === 'stopped') return { ...report, outcome: 'stopped' };
      }
      if (page.length < PAGE) return report;
      after = page[page.length - 1].conversationId;
    }
  }

  /** Deletes the conversation's expired messages a batch at a time, from its lowest seq up. */
  private async sweepConversation(
    db: SweepConnection,
    conversationId: string,
    cutoff: Date,
    report: SweepReport,
    shouldStop: () => boolean,
  ): Promise<'ended' | 'stopped'> {
    const size = this.config.RETENTION_BATCH_SIZE;
    for (;;) {
      if (shouldStop()) return 'stopped';
      const batch = await this.repository.deleteBatch(db, conversationId, cutoff, size);
      report.batches++;
      report.messages += batch.messages;
      report.reactions += batch.reactions;
      report.hidden += batch.hidden;
      deletedRows.inc({ table: 'messages' }, batch.messages);
      deletedRows.inc({ table: 'message_reactions' }, batch.reactions);
      deletedRows.inc({ table: 'hidden_messages' }, batch.hidden);
      // The pause leaves PostgreSQL to the hot path between two statements.
      if (this.config.RETENTION_BATCH_PAUSE_MS > 0) await sleep(this.config.RETENTION_BATCH_PAUSE_MS);
      if (batchEndedHead(batch.messages, size)) return 'ended';
    }
  }
}

const empty = (): SweepReport => ({
  outcome: 'done',
  conversations: 0,
  messages: 0,
  reactions: 0,
  hidden: 0,
  batches: 0,
});
