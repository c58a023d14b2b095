import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SweepConnection } from './retention.repository';

// Any constant works; it only has to be the same in every storage replica.
export const SWEEP_LOCK_KEY = 7_346_221_018;

/**
 * One storage replica sweeps at a time: a session-level advisory lock, taken without waiting
 * on a connection of the sweep's own and given back with it. A replica that dies mid-sweep
 * loses its connection, and PostgreSQL frees the lock with it.
 */
@Injectable()
export class SweepLock {
  private readonly logger = new Logger('retention');

  constructor(private readonly db: DataSource) {}

  /** Runs `work` on the lock's connection, or returns `busy` when another replica holds the lock. */
  async whileHeld<T>(work: (db: SweepConnection) => Promise<T>): Promise<{ result: T } | 'busy'> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      const rows: { locked: boolean }[] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [
        SWEEP_LOCK_KEY,
      ]);
      if (!rows[0].locked) return 'busy';
      try {
        return { result: await work(runner) };
      } finally {
        // A connection that broke took the lock with it; anything else is worth a line.
        await runner
          .query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK_KEY])
          .catch((e: unknown) => this.logger.warn(`sweep lock not released: ${String(e)}`));
      }
    } finally {
      await runner.release();
    }
  }
}
