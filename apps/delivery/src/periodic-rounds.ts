import { Logger } from '@nestjs/common';

/**
 * Runs `round` every `intervalMs`, never two at once (a slow round skips ticks), logging a
 * failed round instead of stopping. `stop` waits for the round in progress.
 */
export class PeriodicRounds {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly round: () => Promise<unknown>,
    private readonly logger = new Logger(name),
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.round()
        .then(() => undefined)
        .catch((e) => this.logger.warn(`${this.name} round failed: ${String(e)}`))
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
