import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The durable ceilings of the SeqAllocator's blocks. */
@Injectable()
export class SeqBlockRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Reserves the next block and returns its ceiling. Never below the conversation's
   * stored last_seq, so a lost seq_blocks row cannot make seqs go back.
   */
  async reserve(conversationId: string, size: number): Promise<number> {
    const rows: { ceiling: string }[] = await this.db.query(
      `INSERT INTO seq_blocks AS b (conversation_id, ceiling)
       VALUES ($1, COALESCE((SELECT last_seq FROM conversations WHERE id = $1), 0) + $2)
       ON CONFLICT (conversation_id) DO UPDATE SET ceiling = b.ceiling + $2
       RETURNING ceiling`,
      [conversationId, size],
    );
    return Number(rows[0].ceiling);
  }
}
