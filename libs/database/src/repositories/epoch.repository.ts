import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * The history's epoch (docs/protocol.md §2), read for every welcome and sync answer so that a
 * change is seen at once on every gateway; while PostgreSQL does not answer, the last value read
 * stands in, so a PostgreSQL restart does not keep clients from connecting. After a restore from
 * an older backup: UPDATE history_epoch SET epoch = gen_random_uuid()::text, changed_at = now();
 */
@Injectable()
export class EpochRepository {
  private lastRead?: string;

  constructor(private readonly db: DataSource) {}

  async current(): Promise<string> {
    try {
      const rows: { epoch: string }[] = await this.db.query(`SELECT epoch FROM history_epoch WHERE id = 1`);
      this.lastRead = rows[0].epoch;
    } catch (error) {
      if (this.lastRead === undefined) throw error;
    }
    return this.lastRead;
  }
}
