import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '@im/config';
import { firstSweepDelayMs, sweepIntervalMs } from './retention-policy';
import { RetentionSweepUseCase } from './retention-sweep.usecase';

/**
 * Runs the retention sweep on every storage replica, one interval after the previous one
 * ended (never two at once); the sweep lock lets one of them work at a time. A failed sweep
 * (PostgreSQL away) is logged and tried again at the next interval.
 */
@Injectable()
export class RetentionWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('retention');
  private readonly intervalMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly sweep: RetentionSweepUseCase,
    config: AppConfig,
  ) {
    this.intervalMs = sweepIntervalMs(config.RETENTION_DAYS, config.RETENTION_SWEEP_INTERVAL_MS);
  }

  onApplicationBootstrap(): void {
    this.schedule(firstSweepDelayMs(this.intervalMs));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.running = this.runOnce().finally(() => {
        this.running = undefined;
        this.schedule(this.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async runOnce(): Promise<void> {
    try {
      const report = await this.sweep.execute(Date.now(), () => this.stopping);
      if (report.messages > 0)
        this.logger.log(
          `retention sweep ${report.outcome}: ${report.messages} messages of ${report.conversations} conversations deleted in ${report.batches} statements`,
        );
    } catch (error) {
      this.logger.warn(`retention sweep failed: ${String(error)}`);
    }
  }
}
